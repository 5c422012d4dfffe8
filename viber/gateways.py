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

from django.utils import timezone

from messaging import links
from messaging.gateways.base import OutgoingMessage
from messaging.gateways.fake import FakeCallbackGateway, callback_event, clickable

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


class FakeViberGateway(FakeCallbackGateway):
    prefix = "viber"
    rate_names = RATES
    max_text = MAX_TEXT
    callback_task = viber_callbacks

    def __init__(self, *, channel: str, **options):
        super().__init__(channel=channel, **options)
        self.buttons = ButtonLinks()

    def apply_callbacks(self, events: list[dict]) -> int:
        return callbacks_apply(events=events)

    def prepared(self, messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
        """A button's URL as Viber gets it: our tracked short link."""
        tracked = self.buttons.for_batch(messages)
        out = []
        for m in messages:
            if m.id in tracked:
                c = m.content
                m = OutgoingMessage(
                    m.id,
                    m.phone,
                    m.sender,
                    m.text,
                    ViberContent(c.image, c.button_text, tracked[m.id]),
                    m.expires_at,
                    m.parts,
                )
            out.append(m)
        return out

    # -- outcomes ------------------------------------------------------------------

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
                events.append(callback_event("undelivered", m, at, reason=NOT_VIBER))
            elif kind == "unavailable":
                events.append(
                    callback_event("undelivered", m, at, reason="Абонент недоступен")
                )
            elif kind == "clicked":
                url = _pressed(m)
                if url:
                    events.append({"event": "clicked", "url": url, "at": at})
                elif clickable(m):  # a plain link in the text: Viber reports it
                    events.append(callback_event("clicked", m, at))
            elif kind == "replied":
                text = REPLIES[m.id % len(REPLIES)]
                events.append(
                    {
                        **callback_event("replied", m, at),
                        "text": text,
                        "reply_id": f"{self.prefix}-reply-{m.id}",
                    }
                )
            else:
                events.append(callback_event(kind, m, at))
        return events


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
