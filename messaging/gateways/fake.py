"""Fake carriers that behave like real ones.

Deterministic outcomes for test numbers (by the last digits of the phone):

==========  ================================================================
ends with   outcome
==========  ================================================================
``0000``    accepted, then receipt *undelivered* "Абонент не найден"
``0001``    accepted, then receipt *undelivered* "Абонент недоступен"
``1111``    rejected at submission, permanent ("Номер заблокирован оператором")
``2222``    rejected at submission, temporary (retried by the core)
``3333``    accepted, receipt *delivered* and later *clicked* (only when the
            text or the content has a link to click; else *delivered*)
``4444``    accepted, receipt *viewed* after *delivered* (Viber)
other       accepted, receipt *delivered*
==========  ================================================================

Every submission is appended to ``GatewaySubmission``; a repeated message id
(the idempotency key) is acknowledged with the first carrier id and recorded
with ``duplicate=True`` but never delivered twice (its status is reported
again).

Modes: ``async`` schedules receipts through Celery after ``receipt_delay_seconds``;
``instant`` hands receipts back right after the batch (``drain_receipts``, as
a polled carrier would; benchmarks and unit tests); ``manual`` leaves them to
the caller (``FakeGateway.pending_receipts``).
"""

import hashlib
import json
import re
import threading
import time

from django.db import transaction
from django.utils import timezone

from .base import BaseGateway, GatewayError, OutgoingMessage, Receipt, SubmitResult

UNDELIVERED_REASONS = {"0000": "Абонент не найден", "0001": "Абонент недоступен"}


def outcome_for(phone: str) -> tuple[str, str]:
    """(final status, reason) a fake carrier reports for a number."""
    tail = phone[-4:]
    if tail in UNDELIVERED_REASONS:
        return "undelivered", UNDELIVERED_REASONS[tail]
    if tail == "3333":
        return "clicked", ""
    if tail == "4444":
        return "viewed", ""
    return "delivered", ""


LINK_RE = re.compile(r"https?://|\bwww\.", re.IGNORECASE)


def clickable(m: OutgoingMessage) -> bool:
    """A recipient can click only a link: one in the text or the content's."""
    links = getattr(m.content, "links", None)
    return bool(LINK_RE.search(m.text or "") or (links and links()))


def content_record(m: OutgoingMessage) -> str:
    as_dict = getattr(m.content, "as_dict", None)
    return json.dumps(as_dict() if as_dict else {}, ensure_ascii=False)


RECORD_COLUMNS = (
    "channel",
    "message_id",
    "gateway_id",
    "phone",
    "sender",
    "text",
    "content",
    "submitted_at",
    "duplicate",
)


def _record(rows: list[tuple]) -> None:
    """Append submissions to the record (COPY on PostgreSQL: the record must not
    be what limits a benchmark of the engine)."""
    if not rows:
        return
    from django.db import connection

    from messaging.models import GatewaySubmission

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            sql = (
                f"COPY messaging_gatewaysubmission ({', '.join(RECORD_COLUMNS)}) "
                "FROM STDIN"
            )
            with cur.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    GatewaySubmission.objects.bulk_create(
        [
            GatewaySubmission(
                **{
                    **dict(zip(RECORD_COLUMNS, row, strict=True)),
                    "content": json.loads(row[RECORD_COLUMNS.index("content")]),
                }
            )
            for row in rows
        ],
        batch_size=2000,
    )


class FakeGateway(BaseGateway):
    prefix = "fake"

    def __init__(self, *, channel: str, **options):
        super().__init__(channel=channel, **options)
        self.mode = options.get("mode", "async")
        self.receipt_delay = float(options.get("receipt_delay_seconds", 2))
        self.pending_receipts: list[Receipt] = []
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._window_count = 0

    def _throttle(self, n: int) -> None:
        rate = self.rate_per_second
        if not rate:
            return
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= 1:
                self._window_start, self._window_count = now, 0
            self._window_count += n
            if self._window_count > rate:
                time.sleep(max(0.0, 1 - (now - self._window_start)))
                self._window_start, self._window_count = time.monotonic(), 0

    def submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        from messaging.models import GatewaySubmission

        self._throttle(len(messages))
        now = timezone.now()
        ids = [m.id for m in messages]
        seen = dict(
            GatewaySubmission.objects.filter(
                channel=self.channel, message_id__any=ids, duplicate=False
            ).values_list("message_id", "gateway_id")
        )
        results, records, receipts = [], [], []
        for m in messages:
            tail = m.phone[-4:]
            if tail == "1111":
                results.append(
                    SubmitResult(
                        m.id,
                        error=GatewayError(
                            "Номер заблокирован оператором", permanent=True
                        ),
                    )
                )
                continue
            if tail == "2222":
                results.append(
                    SubmitResult(
                        m.id,
                        error=GatewayError(
                            "Оператор временно недоступен", permanent=False
                        ),
                    )
                )
                continue
            duplicate = m.id in seen
            gateway_id = seen.get(m.id) or f"{self.prefix}-{self.channel}-{m.id}"
            records.append(
                (
                    self.channel,
                    m.id,
                    gateway_id,
                    m.phone,
                    m.sender,
                    m.text,
                    content_record(m),
                    now,
                    duplicate,
                )
            )
            results.append(SubmitResult(m.id, gateway_id=gateway_id))
            # A repeated id is not sent again, but its status is reported again
            # (a real carrier keeps the status of what it accepted; the worker
            # that was to receive the first report may have died).  Receipts are
            # idempotent on our side.
            receipts.extend(self._receipts_for(m))
        _record(records)
        self._deliver(receipts)
        return results

    def drain_receipts(self) -> list[Receipt]:
        if self.mode != "instant":
            return []
        with self._lock:
            receipts, self.pending_receipts = self.pending_receipts, []
        return receipts

    def _receipts_for(self, m: OutgoingMessage) -> list[Receipt]:
        status, reason = outcome_for(m.phone)
        if status == "clicked" and not clickable(m):
            status = "delivered"
        if status in ("clicked", "viewed"):
            return [
                Receipt("delivered", message_id=m.id),
                Receipt(status, message_id=m.id),
            ]
        return [Receipt(status, message_id=m.id, reason=reason)]

    def _deliver(self, receipts: list[Receipt]) -> None:
        if not receipts:
            return
        if self.mode in ("manual", "instant"):
            with self._lock:
                self.pending_receipts.extend(receipts)
            return
        from django.db import transaction

        from messaging.tasks import apply_fake_receipts

        payload = [[r.message_id, r.status, r.reason] for r in receipts]
        transaction.on_commit(
            lambda: apply_fake_receipts.apply_async(
                args=[self.channel, payload], countdown=self.receipt_delay
            )
        )


class FakeSmsGateway(FakeGateway):
    prefix = "sms"


class FakeCallbackGateway(FakeGateway):
    """A fake carrier that reports through callbacks (Viber, VK, OK): what
    each such fake shares — rates drawn deterministically from the message id,
    texts over the network's limit refused for good, and callbacks kept
    (``manual``/``instant``) or sent through the channel's task (``async``).
    A subclass names ``rate_names`` (the keys of its ``rates`` option),
    ``max_text``, ``callback_task`` and ``apply_callbacks(events)``, and may
    rewrite the messages the network takes (``prepared``)."""

    rate_names: tuple[str, ...] = ()
    max_text = 0

    def __init__(self, *, channel: str, **options):
        super().__init__(channel=channel, **options)
        given = options.get("rates") or {}
        self.rates = {k: float(given.get(k, 0) or 0) for k in self.rate_names}
        self.seed = str(options.get("seed", channel))

    @property
    def pending_events(self) -> list[dict]:
        return self.pending_receipts

    def submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        ok, too_long = self.too_long(messages)
        ok = self.prepared(ok)
        return (super().submit(ok) if ok else []) + too_long

    def prepared(self, messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
        """The messages as the network gets them (Viber: a button's tracked
        link); as they are by default."""
        return messages

    def too_long(self, messages: list[OutgoingMessage]):
        """(the messages the network takes, refusals of those over its limit)."""
        ok, refused = [], []
        for m in messages:
            if self.max_text and len(m.text or "") > self.max_text:
                refused.append(
                    SubmitResult(
                        m.id,
                        error=GatewayError(
                            f"Текст длиннее {self.max_text} символов", permanent=True
                        ),
                    )
                )
            else:
                ok.append(m)
        return ok, refused

    def _draws(self, message_id: int) -> list[float]:
        """One uniform number per rate, the same for a message every time."""
        n = len(self.rates)
        digest = hashlib.blake2b(
            f"{self.seed}:{message_id}".encode(), digest_size=4 * n
        ).digest()
        return [
            int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 4 * n, 4)
        ]

    def callback_args(self, events: list[dict]) -> list:
        return [events]

    def apply_callbacks(self, events: list[dict]) -> int:
        """Apply the network's callbacks through the channel's own service —
        every subclass names it (there is no default)."""
        raise NotImplementedError(f"{type(self).__name__}.apply_callbacks")

    def _deliver(self, receipts: list[dict]) -> None:
        if not receipts:
            return
        if self.mode in ("manual", "instant"):
            with self._lock:
                self.pending_receipts.extend(receipts)
            return
        args = self.callback_args(receipts)
        transaction.on_commit(
            lambda: self.callback_task.apply_async(
                args=args, countdown=self.receipt_delay
            )
        )

    def drain_receipts(self) -> list:
        """Instant mode: the callbacks are applied right after the batch (as
        the network's webhooks would arrive); nothing is left for the core."""
        if self.mode == "instant":
            self.flush()
        return []

    def flush(self) -> int:
        """Apply every pending callback (manual and instant modes)."""
        with self._lock:
            events, self.pending_receipts = self.pending_receipts, []
        return self.apply_callbacks(events) if events else 0


def callback_event(kind: str, m: OutgoingMessage, at: str, reason: str = "") -> dict:
    """One callback about ``m`` as a network's webhook carries it."""
    event = {"event": kind, "message_id": m.id, "at": at}
    if reason:
        event["reason"] = reason
    return event
