"""Fake VK and OK notification services that behave like the real ones.

They take a batch like ``messaging.gateways.fake.FakeGateway`` (the
append-only submission record, the message id as idempotency key, the
permanent «…1111» and temporary «…2222» refusals, throughput limit), refuse a
text over 2,048 characters for good, and report later, like the networks'
callbacks:

==========  ============================================================
ends with   outcome
==========  ============================================================
``0000``    undelivered «Номер не зарегистрирован во ВКонтакте» (OK: в ОК)
``0001``    undelivered «Пользователь неактивен»
``1111``    refused at submission, permanent (the core fails and refunds it)
``2222``    refused at submission, temporary (the core retries it)
``3333``    delivered, seen, a link clicked (seen when there is no link)
``4444``    delivered, seen
``6666``    delivered, then the recipient unsubscribed from the group
other       ``rates``: ``not_user`` (share of numbers not on the network),
            ``inactive``; of the delivered: ``seen``, ``unsubscribed``; of
            the seen: ``clicked`` — drawn deterministically from the message
            id; all 0 by default (delivered)
==========  ============================================================

Every callback carries the units it bills (``social.services.callbacks_apply``):
only a message that reached the recipient is charged.

Modes as the SMS fake: ``async`` (callbacks through a Celery task after
``receipt_delay_seconds``), ``instant`` (applied right after the batch), and
``manual`` (kept in ``pending_events`` until ``flush()``).
"""

from django.utils import timezone

from messaging.gateways.base import OutgoingMessage
from messaging.gateways.fake import FakeCallbackGateway, callback_event, clickable

from .channels import MAX_TEXT
from .services import callbacks_apply
from .tasks import social_callbacks

RATES = ("not_user", "inactive", "seen", "unsubscribed", "clicked")


class FakeSocialGateway(FakeCallbackGateway):
    prefix = "social"
    network = ""
    rate_names = RATES
    max_text = MAX_TEXT
    callback_task = social_callbacks

    def apply_callbacks(self, events: list[dict]) -> int:
        return callbacks_apply(channel=self.channel, events=events)

    def callback_args(self, events: list[dict]) -> list:
        return [self.channel, events]

    def _outcome(self, m: OutgoingMessage) -> tuple[str, ...]:
        fixed = {
            "0000": ("not_user",),
            "0001": ("inactive",),
            "3333": ("delivered", "seen", "clicked"),
            "4444": ("delivered", "seen"),
            "6666": ("delivered", "unsubscribed"),
        }
        tail = m.phone[-4:]
        if tail in fixed:
            return fixed[tail]
        u = self._draws(m.id)
        r = self.rates
        if u[0] < r["not_user"]:
            return ("not_user",)
        if u[1] < r["inactive"]:
            return ("inactive",)
        events = ["delivered"]
        if u[2] < r["seen"]:
            events.append("seen")
            if u[4] < r["clicked"]:
                events.append("clicked")
        if u[3] < r["unsubscribed"]:
            events.append("unsubscribed")
        return tuple(events)

    def _receipts_for(self, m: OutgoingMessage) -> list[dict]:
        at = timezone.now().isoformat()
        events = []
        for kind in self._outcome(m):
            if kind == "not_user":
                events.append(
                    callback_event(
                        "undelivered", m, at, f"Номер не зарегистрирован {self.network}"
                    )
                )
            elif kind == "inactive":
                events.append(
                    callback_event("undelivered", m, at, "Пользователь неактивен")
                )
            elif kind == "clicked":
                if clickable(m):
                    events.append(callback_event("clicked", m, at))
            else:
                events.append(callback_event(kind, m, at))
        return events


class FakeVkGateway(FakeSocialGateway):
    prefix = "vk"
    network = "во ВКонтакте"


class FakeOkGateway(FakeSocialGateway):
    prefix = "ok"
    network = "в Одноклассниках"
