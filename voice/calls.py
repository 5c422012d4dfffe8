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

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from messaging.gateways.base import OutgoingMessage, Receipt
from messaging.models import Message
from messaging.models import MessageStatus as S
from messaging.statuses import locked

from . import selectors
from .channels import FEDERAL

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
class CallPlan:
    """What every call of one campaign shares, worked out once per batch and
    campaign (not per call): the audio's length, the menu, the redials, and
    whether it is a CallPassword call."""

    code: bool
    duration: int
    ivr: dict
    redials: int
    redial_interval: int

    @classmethod
    def of(cls, content) -> "CallPlan":
        return cls(
            code=content is not None and hasattr(content, "code"),
            duration=max(1, getattr(content, "duration", 0) or 0),
            ivr=dict(getattr(content, "ivr", {}) or {}),
            redials=getattr(content, "redial_count", 0) or 0,
            redial_interval=getattr(content, "redial_interval", 0) or 0,
        )

    def action(self, digit: str) -> str:
        return (self.ivr.get(digit) or {}).get("action", "") if digit else ""


def plans_for(messages: list[OutgoingMessage]) -> dict[int, CallPlan]:
    """id(content) → its plan: one per campaign of a batch (dispatch gives
    every message of a campaign the same content instance)."""
    plans: dict[int, CallPlan] = {}
    for m in messages:
        key = id(m.content)
        if key not in plans:
            plans[key] = CallPlan.of(m.content)
    return plans


class Callers:
    """Who a call comes from — one rule for every voice gateway: a
    CallPassword call from its sender (the number whose last four digits are
    the code); a campaign call from the client's own approved number when
    that is the campaign's sender, else from a random number of the federal
    pool («Номера отправителя»), read once a minute, not per call."""

    REFRESH_SECONDS = 60

    def __init__(self):
        self._numbers: list[str] = []
        self._at = 0.0
        self._random = random.Random()

    def pool(self) -> list[str]:
        if not self._numbers or time.monotonic() - self._at > self.REFRESH_SECONDS:
            self._numbers = selectors.federal_numbers() or ["+74950000000"]
            self._at = time.monotonic()
        return self._numbers

    def for_batch(
        self, messages: list[OutgoingMessage], plans: dict[int, CallPlan]
    ) -> list[str]:
        """The caller of each message, in order."""
        federal = [
            not plans[id(m.content)].code and m.sender == FEDERAL for m in messages
        ]
        count = sum(federal)
        picks = iter(self._random.choices(self.pool(), k=count) if count else ())
        return [
            next(picks) if is_federal else m.sender
            for m, is_federal in zip(messages, federal, strict=True)
        ]


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
    plan: CallPlan | None = None,
) -> Receipt:
    """``now_iso``: ``now`` already formatted (a batch of calls formats it
    once); ``plan``: the campaign's (``plans_for``), else read from the
    message's content."""
    now = now or timezone.now()
    now_iso = now_iso or now.isoformat()
    plan = plan or CallPlan.of(message.content)
    result = outcome.result
    extra = {"caller": outcome.caller}
    if plan.redials or message.attempt > 1:
        # Each attempt of a call with redials is kept (a single call's facts
        # are the message's own).
        attempt = {"at": now_iso, "result": result}
        if result == ANSWERED:
            attempt["seconds"] = outcome.seconds
        if outcome.digit:
            attempt["digit"] = outcome.digit
        extra[f"call_{message.attempt}"] = attempt
    if result == RANG:
        return Receipt(S.SUCCESS, message_id=message.id, extra=extra)
    if result == ANSWERED:
        extra["answered_at"] = (
            outcome.answered_at.isoformat() if outcome.answered_at else now_iso
        )
        extra["seconds"] = outcome.seconds
        extra["listened"] = round(outcome.listened_ms / 1000)
        extra["percent"] = min(100, round(outcome.listened_ms / 10 / plan.duration))
        status = S.SUCCESS
        if outcome.digit:
            extra["digit"] = outcome.digit
            status = (
                S.UNSUBSCRIBED
                if plan.action(outcome.digit) == "unsubscribe"
                else S.IVR
            )
        return Receipt(
            status, message_id=message.id, units=outcome.seconds, extra=extra
        )
    reason = outcome.detail or REASONS.get(result, REASONS[FAILED])
    if result != FAILED and message.attempt <= plan.redials:
        retry_at = now + timedelta(minutes=plan.redial_interval or 1)
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
        units=None if plan.code or message.content is None else 0,
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
