"""What a finished call means for its message: one rule for every voice
gateway (the fake carrier and the SIP trunk).

A call answered ends in «Успешный вызов», «IVR» (a digit was pressed) or «Абонент
отписался» (the menu's unsubscribe digit), with the seconds it lasted (they
settle the price), the share of the audio listened to and the digit.  A call not
answered (busy, no answer, rejected) is redialled while the campaign's redials
last — the message goes back to «Отложено» with the redial time (the core's
``Receipt.retry_at``, persisted on the message) — and ends «Не доставлено»,
free, after the last one.  Every attempt is kept on the message
(``extra.call_<n>``)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from messaging.gateways.base import OutgoingMessage, Receipt
from messaging.models import Message
from messaging.models import MessageStatus as S
from messaging.statuses import locked

ANSWERED = "answered"
BUSY = "busy"
NO_ANSWER = "no_answer"
REJECTED = "rejected"
FAILED = "failed"
# CallPassword: the phone rang with the code in the caller's number.
RANG = "rang"

REASONS = {
    BUSY: "Занято",
    NO_ANSWER: "Абонент не ответил",
    REJECTED: "Вызов отклонён",
    FAILED: "Номер недоступен",
}


@dataclass(frozen=True)
class CallOutcome:
    result: str
    caller: str = ""
    answered_at: datetime | None = None
    # Seconds from answer to hang-up, and of the audio played in that time.
    seconds: int = 0
    listened_ms: int = 0
    digit: str = ""
    detail: str = ""


def receipt_for(
    message: OutgoingMessage,
    outcome: CallOutcome,
    *,
    now: datetime | None = None,
    now_iso: str = "",
) -> Receipt:
    """``now_iso``: ``now`` already formatted (a batch of calls formats it once)."""
    now = now or timezone.now()
    now_iso = now_iso or now.isoformat()
    content = message.content
    attempt = {
        "at": now_iso,
        "result": outcome.result,
        **({"seconds": outcome.seconds} if outcome.result == ANSWERED else {}),
        **({"digit": outcome.digit} if outcome.digit else {}),
    }
    extra = {"caller": outcome.caller}
    redials = getattr(content, "redial_count", 0) or 0
    if redials or message.attempt > 1:
        # Each attempt of a call with redials is kept (a single call's facts
        # are the message's own).
        extra[f"call_{message.attempt}"] = attempt
    if outcome.result == RANG:
        return Receipt(S.SUCCESS, message_id=message.id, extra=extra)
    if outcome.result == ANSWERED:
        duration = max(1, getattr(content, "duration", 0) or 0)
        percent = min(100, round(outcome.listened_ms / 10 / duration))
        extra.update(
            answered_at=outcome.answered_at.isoformat()
            if outcome.answered_at
            else now_iso,
            seconds=outcome.seconds,
            listened=round(outcome.listened_ms / 1000),
            percent=percent,
        )
        status = S.SUCCESS
        if outcome.digit:
            extra["digit"] = outcome.digit
            action = (getattr(content, "ivr", {}) or {}).get(outcome.digit, {})
            status = S.UNSUBSCRIBED if action.get("action") == "unsubscribe" else S.IVR
        return Receipt(
            status, message_id=message.id, units=outcome.seconds, extra=extra
        )
    reason = outcome.detail or REASONS.get(outcome.result, REASONS[FAILED])
    if outcome.result != FAILED and message.attempt <= redials:
        retry_at = now + timedelta(minutes=content.redial_interval or 1)
        local = timezone.localtime(retry_at).strftime("%H:%M")
        return Receipt(
            S.UNDELIVERED,
            message_id=message.id,
            reason=f"{reason}; перезвон в {local}",
            extra=extra,
            retry_at=retry_at,
        )
    # Not answered after the last redial: final and free.
    return Receipt(
        S.UNDELIVERED,
        message_id=message.id,
        reason=reason,
        units=0
        if message.content is not None and hasattr(content, "duration")
        else None,
        extra=extra,
    )


def placement_key(attempt: int) -> str:
    """Where a message records that its call ``attempt`` was dialled."""
    return f"placed_{attempt}"


def calls_claim(wanted: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Exactly once at the carrier: of the ``(message id, attempt)`` calls a
    task was given, the ones it may dial.  Each is marked placed on its
    message (``extra.placed_<attempt>``) in a committed transaction *before*
    it is dialled; a call already marked is never dialled again — it is a
    task redelivered after its worker died mid-call, and whether that call
    rang is unknown.  Such a message stays «Отправлено» and the sweep of
    unconfirmed messages settles it after the channel's receipt timeout
    (docs/DECISIONS.md, "A call is dialled at most once")."""
    if not wanted:
        return set()
    ids = sorted({mid for mid, _attempt in wanted})
    now = timezone.now().isoformat()
    claimed: set[tuple[int, int]] = set()
    with transaction.atomic():
        rows = {
            m.pk: m
            for m in locked(Message.objects.filter(pk__in=ids).only("id", "extra"))
        }
        changed = []
        for mid, attempt in wanted:
            row = rows.get(mid)
            key = placement_key(attempt)
            if row is None or (row.extra or {}).get(key):
                continue
            row.extra = {**(row.extra or {}), key: now}
            claimed.add((mid, attempt))
            changed.append(row)
        if changed:
            Message.objects.bulk_update(changed, ["extra"])
    return claimed
