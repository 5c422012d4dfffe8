"""The core's signals → the events outbox (docs/EVENTS.md)."""

from django.dispatch import receiver

from billing.signals import ledger_posted
from contacts.signals import contacts_added
from messaging.signals import replies_received, statuses_changed

from . import services


@receiver(contacts_added, dispatch_uid="events.contacts_added")
def contacts_to_outbox(sender, account_id=None, group_id=None, source="", **which):
    # Inside the transaction that added them: the event commits with them.
    services.on_contacts_added(
        account_id=account_id, group_id=group_id, source=source, **which
    )


@receiver(statuses_changed, dispatch_uid="events.statuses_changed")
def statuses_to_outbox(sender, channel=None, changes=None, **kwargs):
    services.on_statuses_changed(channel=channel or "", changes=list(changes or []))


@receiver(replies_received, dispatch_uid="events.replies_received")
def replies_to_outbox(sender, channel=None, replies=None, **kwargs):
    services.on_replies(channel=channel or "", replies=list(replies or []))


@receiver(ledger_posted, dispatch_uid="events.ledger_posted")
def ledger_to_outbox(sender, entry=None, balance_before=None, **kwargs):
    # Inside the ledger's transaction.
    services.on_ledger(entry=entry, balance_before=balance_before)
