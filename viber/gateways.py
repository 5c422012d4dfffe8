"""A fake Viber carrier that behaves like the real service.

It takes a batch like ``messaging.gateways.fake.FakeGateway`` (the append-only
submission record, the message id as idempotency key, the permanent «…1111»
and temporary «…2222» refusals, throughput limit), with what Viber adds:

- the button leads through our short link (``/s/<token>``, one per message):
  that address is what the carrier gets and what a recipient presses, so a
  click is counted by the same code as a click in an SMS;
- a text over 1000 characters (after substitutions) is refused for good;
- callbacks arrive later, like Viber's webhooks: delivered, seen, clicked,
  replied, unsubscribed, spam, or undelivered when the number does not use
  Viber — by number pattern, or by configurable rates for other numbers.

==========  ============================================================
ends with   outcome
==========  ============================================================
``0000``    undelivered «Номер не зарегистрирован в Viber»
``0001``    undelivered «Абонент недоступен»
``1111``    refused at submission, permanent (the core fails and refunds it)
``2222``    refused at submission, temporary (the core retries it)
``3333``    delivered, seen, the button (or a link) pressed; seen if none
``4444``    delivered, seen
``5555``    delivered, seen, a reply
``6666``    delivered, then the recipient unsubscribed
``7777``    moved to spam
other       ``rates``: ``not_viber_user`` (share of numbers without Viber),
            ``spam``; of the delivered: ``seen``, ``unsubscribed``; of the
            seen: ``clicked`` (where there is something to press) and
            ``replied`` — drawn deterministically from the message id, so a
            run can be repeated; all 0 by default (delivered)
==========  ============================================================

Modes as the SMS fake: ``async`` (callbacks through a Celery task after
``receipt_delay_seconds``), ``instant`` (applied right after the batch), and
``manual`` (kept in ``pending_events`` until ``flush()``).
"""

import hashlib

from django.db import transaction
from django.utils import timezone

from messaging import links
from messaging.gateways.base import GatewayError, OutgoingMessage, SubmitResult
from messaging.gateways.fake import FakeGateway, clickable

from .channels import ViberContent
from .services import ButtonLinks, callbacks_apply
from .tasks import viber_callbacks

MAX_TEXT = 1000
RATES = ("not_viber_user", "spam", "seen", "unsubscribed", "clicked", "replied")
REPLIES = (
    "Спасибо, интересно!",
    "Сколько стоит доставка?",
    "Можно подробнее?",
    "Больше не присылайте.",
    "Где ближайший магазин?",
)
NOT_VIBER = "Номер не зарегистрирован в Viber"


class FakeViberGateway(FakeGateway):
    prefix = "viber"

    def __init__(self, *, channel: str, **options):
        super().__init__(channel=channel, **options)
        rates = options.get("rates") or {}
        self.rates = {k: float(rates.get(k, 0) or 0) for k in RATES}
        self.seed = str(options.get("seed", "viber"))
        self.buttons = ButtonLinks()

    @property
    def pending_events(self) -> list[dict]:
        return self.pending_receipts

    def submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        tracked = self.buttons.for_batch(messages)
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
            elif m.id in tracked:
                c = m.content
                ok.append(
                    OutgoingMessage(
                        m.id,
                        m.phone,
                        m.sender,
                        m.text,
                        ViberContent(c.image, c.button_text, tracked[m.id]),
                        m.expires_at,
                        m.parts,
                    )
                )
            else:
                ok.append(m)
        return (super().submit(ok) if ok else []) + too_long

    # -- outcomes ------------------------------------------------------------------

    def _draws(self, message_id: int) -> list[float]:
        digest = hashlib.blake2b(
            f"{self.seed}:{message_id}".encode(), digest_size=24
        ).digest()
        return [
            int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 24, 4)
        ]

    def _outcome(self, m: OutgoingMessage) -> tuple[str, ...]:
        tail = m.phone[-4:]
        fixed = {
            "0000": ("not_viber",),
            "0001": ("unavailable",),
            "3333": ("delivered", "seen", "clicked"),
            "4444": ("delivered", "seen"),
            "5555": ("delivered", "seen", "replied"),
            "6666": ("delivered", "unsubscribed"),
            "7777": ("spam",),
        }
        if tail in fixed:
            return fixed[tail]
        u = self._draws(m.id)
        r = self.rates
        if u[0] < r["not_viber_user"]:
            return ("not_viber",)
        if u[1] < r["spam"]:
            return ("spam",)
        events = ["delivered"]
        if u[2] < r["seen"]:
            events.append("seen")
            if u[4] < r["clicked"]:
                events.append("clicked")
            if u[5] < r["replied"]:
                events.append("replied")
        if u[3] < r["unsubscribed"]:
            events.append("unsubscribed")
        return tuple(events)

    def _receipts_for(self, m: OutgoingMessage) -> list[dict]:
        """The callbacks Viber will send about ``m`` (dicts, as a webhook gets)."""
        at = timezone.now().isoformat()
        events = []
        for kind in self._outcome(m):
            if kind == "not_viber":
                events.append(_event("undelivered", m, at, reason=NOT_VIBER))
            elif kind == "unavailable":
                events.append(_event("undelivered", m, at, reason="Абонент недоступен"))
            elif kind == "clicked":
                url = _pressed(m)
                if url:
                    events.append({"event": "clicked", "url": url, "at": at})
                elif clickable(m):  # a plain link in the text: Viber reports it
                    events.append(_event("clicked", m, at))
            elif kind == "replied":
                text = REPLIES[m.id % len(REPLIES)]
                events.append(
                    {
                        **_event("replied", m, at),
                        "text": text,
                        "reply_id": f"{self.prefix}-reply-{m.id}",
                    }
                )
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
        transaction.on_commit(
            lambda: viber_callbacks.apply_async(
                args=[receipts], countdown=self.receipt_delay
            )
        )

    def drain_receipts(self) -> list:
        """Instant mode: the callbacks are applied right after the batch (as
        Viber's webhooks would arrive); nothing is left for the core."""
        if self.mode == "instant":
            self.flush()
        return []

    def flush(self) -> int:
        """Apply every pending callback (manual and instant modes)."""
        with self._lock:
            events, self.pending_receipts = self.pending_receipts, []
        return callbacks_apply(events=events) if events else 0


def _event(kind: str, m: OutgoingMessage, at: str, reason: str = "") -> dict:
    event = {"event": kind, "message_id": m.id, "at": at}
    if reason:
        event["reason"] = reason
    return event


def _pressed(m: OutgoingMessage) -> str:
    """What the recipient presses: the button's short link, else a short link
    of ours in the text ("" when there is none)."""
    if m.content is not None and m.content.links():
        return m.content.links()[0]
    ours = links.short_base().rstrip("/") + "/s/"
    for url in links.find_urls(m.text or ""):
        if url.startswith(ours):
            return url
    return ""
