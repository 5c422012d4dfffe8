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

import hashlib

from django.db import transaction
from django.utils import timezone

from messaging.gateways.base import GatewayError, OutgoingMessage, SubmitResult
from messaging.gateways.fake import FakeGateway, clickable

from .channels import MAX_TEXT
from .services import callbacks_apply
from .tasks import social_callbacks

RATES = ("not_user", "inactive", "seen", "unsubscribed", "clicked")


class FakeSocialGateway(FakeGateway):
    prefix = "social"
    network = ""

    def __init__(self, *, channel: str, **options):
        super().__init__(channel=channel, **options)
        rates = options.get("rates") or {}
        self.rates = {k: float(rates.get(k, 0) or 0) for k in RATES}
        self.seed = str(options.get("seed", channel))

    @property
    def pending_events(self) -> list[dict]:
        return self.pending_receipts

    def submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        too_long, ok = [], []
        for m in messages:
            if len(m.text or "") > MAX_TEXT:
                too_long.append(
                    SubmitResult(
                        m.id,
                        error=GatewayError(
                            f"Текст длиннее {MAX_TEXT} символов", permanent=True
                        ),
                    )
                )
            else:
                ok.append(m)
        return (super().submit(ok) if ok else []) + too_long

    def _draws(self, message_id: int) -> list[float]:
        digest = hashlib.blake2b(
            f"{self.seed}:{message_id}".encode(), digest_size=20
        ).digest()
        return [
            int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 20, 4)
        ]

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
                    _event(
                        "undelivered", m, at, f"Номер не зарегистрирован {self.network}"
                    )
                )
            elif kind == "inactive":
                events.append(_event("undelivered", m, at, "Пользователь неактивен"))
            elif kind == "clicked":
                if clickable(m):
                    events.append(_event("clicked", m, at))
            else:
                events.append(_event(kind, m, at))
        return events

    def _deliver(self, receipts: list[dict]) -> None:
        if not receipts:
            return
        if self.mode in ("manual", "instant"):
            with self._lock:
                self.pending_receipts.extend(receipts)
            return
        channel = self.channel
        transaction.on_commit(
            lambda: social_callbacks.apply_async(
                args=[channel, receipts], countdown=self.receipt_delay
            )
        )

    def drain_receipts(self) -> list:
        """Instant mode: the callbacks are applied right after the batch;
        nothing is left for the core."""
        if self.mode == "instant":
            self.flush()
        return []

    def flush(self) -> int:
        """Apply every pending callback (manual and instant modes)."""
        with self._lock:
            events, self.pending_receipts = self.pending_receipts, []
        return callbacks_apply(channel=self.channel, events=events) if events else 0


class FakeVkGateway(FakeSocialGateway):
    prefix = "vk"
    network = "во ВКонтакте"


class FakeOkGateway(FakeSocialGateway):
    prefix = "ok"
    network = "в Одноклассниках"


def _event(kind: str, m: OutgoingMessage, at: str, reason: str = "") -> dict:
    event = {"event": kind, "message_id": m.id, "at": at}
    if reason:
        event["reason"] = reason
    return event
