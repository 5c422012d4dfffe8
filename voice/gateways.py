"""The fake voice carrier: calls that behave like real ones, by the number's
last four digits (the SMS fake's ``1111`` and ``2222`` refusals too):

==========  ===============================================================
ends with   outcome
==========  ===============================================================
``0000``    no answer
``0001``    busy
``1111``    refused at submission, permanent
``2222``    refused at submission, temporary (retried by the core)
``333d``    answered; the recipient presses digit *d* halfway through
``55ss``    answered; hangs up after *ss* seconds (``5505``: 5 s)
other       answered and listened to the end (or, with ``random_listen``,
            a share of the audio decided by the message id; and with
            ``no_answer_percent`` that share of calls is not answered)
==========  ===============================================================

CallPassword calls (channel ``callpassword``) ring and are cancelled:
«Успешный вызов» except ``0000``/``0001`` (not reached).  Results come like a
carrier's: ``async`` through a Celery task after ``receipt_delay_seconds``,
``instant`` right after the batch (``drain_receipts``), ``manual`` for tests.
Every call is recorded in ``GatewaySubmission`` (exactly once per message id
and attempt)."""

import json
import zlib

from django.db import transaction
from django.utils import timezone

from messaging.gateways.base import (
    GatewayError,
    OutgoingMessage,
    Receipt,
    SubmitResult,
)
from messaging.gateways.fake import FakeGateway, _record, content_record
from messaging.models import GatewaySubmission

from . import calls
from .calls import Callers, CallOutcome, CallPlan


def call_record(m: OutgoingMessage) -> str:
    """What a carrier gets for a call, as the record keeps it: the audio, its
    length and the digit menu (a code call: its code) — not the cabinet's own
    bookkeeping (the audio's name and id, the redials), which made each
    record's JSON three times longer."""
    c = m.content
    if c is None or not hasattr(c, "audio"):
        return content_record(m)
    return json.dumps(
        {"audio": c.audio, "duration": c.duration, "ivr": c.ivr or {}},
        ensure_ascii=False,
    )


def fake_outcome(
    m: OutgoingMessage, *, caller: str, options: dict, plan: CallPlan | None = None
) -> CallOutcome:
    """What the fake callee does (the answer time is the batch's: the
    receipt's).  ``plan``: the campaign's (``calls.plans_for``)."""
    plan = plan or CallPlan.of(m.content)
    tail = m.phone[-4:]
    if plan.code:  # CallPassword
        if tail in ("0000", "0001"):
            return CallOutcome(
                calls.NO_ANSWER if tail == "0000" else calls.BUSY, caller
            )
        return CallOutcome(calls.RANG, caller)
    if tail == "0000":
        return CallOutcome(calls.NO_ANSWER, caller)
    if tail == "0001":
        return CallOutcome(calls.BUSY, caller)
    duration = plan.duration
    played = duration
    digit = ""
    if tail.startswith("333"):
        digit = tail[3]
        played = max(1, duration // 2)
    elif tail.startswith("55"):
        played = min(duration, int(tail[2:]) or 1)
    else:
        percent = options.get("no_answer_percent")
        random_listen = options.get("random_listen")
        if percent or random_listen:
            hash_ = zlib.crc32(f"{m.id}:{m.attempt}".encode())
            if percent and hash_ % 100 < int(percent):
                return CallOutcome(calls.NO_ANSWER, caller)
            if random_listen:
                played = 1 + (hash_ >> 8) % duration
    seconds = played + (duration if plan.action(digit) == "repeat" else 0)
    return CallOutcome(
        calls.ANSWERED,
        caller,
        seconds=seconds,
        listened_ms=min(seconds, duration) * 1000,
        digit=digit,
    )


class FakeVoiceGateway(FakeGateway):
    prefix = "voice"

    def __init__(self, *, channel: str, **options):
        super().__init__(channel=channel, **options)
        self.callers = Callers()

    def submit(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        """Like the SMS fake, but a call's idempotency key is its message id
        and attempt: a redial is a new call, a re-submitted attempt is not.
        What a campaign's calls share (the audio's length, the menu, the
        redials, the content's record) is worked out once per batch, and the
        callers of the batch are drawn together.  The record keeps what a
        carrier gets for a call — caller, number, the audio and menu (the
        content) — not the spoken text, which is the audio."""
        self._throttle(len(messages))
        now = timezone.now()
        now_iso = now.isoformat()
        prefix = f"{self.prefix}-{self.channel}-"
        keys = {m.id: f"{prefix}{m.id}-{m.attempt}" for m in messages}
        wanted = set(keys.values())
        seen = {
            gid
            for gid in GatewaySubmission.objects.filter(
                channel=self.channel, message_id__any=list(keys), duplicate=False
            ).values_list("gateway_id", flat=True)
            if gid in wanted
        }
        plans = calls.plans_for(messages)
        records_of = {
            key: call_record(next(m for m in messages if id(m.content) == key))
            for key in plans
        }
        callers = self.callers.for_batch(messages, plans)
        options = self.options
        results, records, receipts = [], [], []
        for m, caller in zip(messages, callers, strict=True):
            tail = m.phone[-4:]
            if tail in ("1111", "2222"):
                permanent = tail == "1111"
                results.append(
                    SubmitResult(
                        m.id,
                        error=GatewayError(
                            "Номер заблокирован оператором"
                            if permanent
                            else "Оператор временно недоступен",
                            permanent=permanent,
                        ),
                    )
                )
                continue
            gateway_id = keys[m.id]
            duplicate = gateway_id in seen
            key = id(m.content)
            records.append(
                (
                    self.channel,
                    m.id,
                    gateway_id,
                    m.phone,
                    caller,
                    "",
                    records_of[key],
                    now,
                    duplicate,
                )
            )
            results.append(SubmitResult(m.id, gateway_id=gateway_id))
            if not duplicate:
                plan = plans[key]
                outcome = fake_outcome(m, caller=caller, options=options, plan=plan)
                receipts.append(
                    calls.receipt_for(m, outcome, now=now, now_iso=now_iso, plan=plan)
                )
        _record(records)
        self._deliver(receipts)
        return results

    def _receipts_for(self, m: OutgoingMessage) -> list[Receipt]:
        plans = calls.plans_for([m])
        caller = self.callers.for_batch([m], plans)[0]
        outcome = fake_outcome(m, caller=caller, options=self.options)
        return [calls.receipt_for(m, outcome)]

    def _deliver(self, receipts: list[Receipt]) -> None:
        if not receipts:
            return
        if self.mode in ("manual", "instant"):
            with self._lock:
                self.pending_receipts.extend(receipts)
            return
        from .tasks import apply_call_results

        payload = [receipt_to_json(r) for r in receipts]
        channel = self.channel
        delay = self.receipt_delay
        transaction.on_commit(
            lambda: apply_call_results.apply_async(
                args=[channel, payload], countdown=delay
            )
        )


def receipt_to_json(r: Receipt) -> dict:
    return {
        "status": r.status,
        "message_id": r.message_id,
        "reason": r.reason,
        "units": r.units,
        "extra": r.extra,
        "retry_at": r.retry_at.isoformat() if r.retry_at else None,
    }


def receipt_from_json(d: dict) -> Receipt:
    from datetime import datetime

    retry_at = datetime.fromisoformat(d["retry_at"]) if d.get("retry_at") else None
    return Receipt(
        d["status"],
        message_id=d["message_id"],
        reason=d.get("reason") or "",
        units=d.get("units"),
        extra=d.get("extra") or {},
        retry_at=retry_at,
    )
