"""The messengers' delivery transport of ``cabinet.notifications``: every
notification goes to the account's bound chats that chose its kind."""

from cabinet.notifications import Note, Transport

from .messengers import deliver_note


class MessengerTransport(Transport):
    code = "messengers"
    kinds = None  # each chat chooses its own kinds

    def deliver(self, note: Note) -> None:
        deliver_note(note)
