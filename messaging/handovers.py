"""The database side of a carrier link (``messaging.gateways.smpp``): hand-overs
recorded as the carrier answers, stale claims resolved by them, carrier reports
matched by the carrier's id, incoming messages stored and announced.

The rule for a hand-over whose answer was lost (docs/DECISIONS.md «Hand-over
to a carrier»):

- a message whose PDU never left (no hand-over row, or ``rejected``) is
  re-submitted as usual;
- ``accepted`` (the carrier's id is recorded) is never submitted again: a
  stale claim becomes «Отправлено» with that id;
- ``pending``/``unknown`` (the PDU may have reached the carrier): never
  submitted again on the spot.  It becomes «Отправлено» with the reason
  ``UNCONFIRMED`` and waits for the carrier's report: a report whose id we do
  not know, from that destination address, settles it (the id is recorded and
  the report applied).  Only when no report came within
  ``unknown_resolve_seconds`` is it queued again — logged, and marked in the
  message (``extra.handover_resubmitted``) — or, with ``unknown_rule="fail"``,
  failed and refunded.
"""

import json
import logging
from collections import defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from .models import Campaign, Handover, IncomingMessage, Message, MessageStatus
from .signals import replies_received
from .statuses import (
    campaign_finish_if_done,
    chunks,
    messages_refund,
    receipts_apply,
    set_statuses,
)

log = logging.getLogger(__name__)
S = MessageStatus
H = Handover.State

UNCONFIRMED = "Передача оператору не подтверждена: ждём отчёт оператора"
NOT_CONFIRMED_FAILED = "Оператор не подтвердил приём сообщения"


def begin(
    channel: str,
    rows: list[tuple[int, str, int]],
    answers: list[tuple[int, str, str]] | None = None,
) -> None:
    """Record that these messages' PDUs are about to leave: (message id,
    destination address, attempt) — and the carrier's ``answers`` so far
    (see ``answer``), in the same round trip.  Committed before the first
    byte is written."""
    if not rows:
        answer(answers or [])
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            if answers:
                cur.execute(*_answer_sql(answers, now))
            cur.execute(
                "INSERT INTO messaging_handover "
                "(message_id, channel, state, gateway_id, address, attempt, "
                "parts, updated_at) "
                "SELECT v.id, %s, 'pending', '', v.addr, v.att, '{}'::jsonb, %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::int[]) AS v(id, addr, att) "
                "ON CONFLICT (message_id) DO UPDATE SET state = 'pending', "
                "gateway_id = '', address = excluded.address, "
                "attempt = excluded.attempt, updated_at = excluded.updated_at",
                [
                    channel,
                    now,
                    [r[0] for r in rows],
                    [r[1] for r in rows],
                    [r[2] for r in rows],
                ],
            )
        return
    answer(answers or [])
    Handover.objects.bulk_create(
        [
            Handover(
                message_id=mid,
                channel=channel,
                state=H.PENDING,
                address=addr,
                attempt=att,
                updated_at=now,
            )
            for mid, addr, att in rows
        ],
        update_conflicts=True,
        unique_fields=["message_id"],
        update_fields=["state", "gateway_id", "address", "attempt", "updated_at"],
    )


def answer(rows: list[tuple]) -> None:
    """Record the carrier's answers: (message id, state, carrier id) or
    (message id, state, carrier id, parts) — ``parts``: a long text's parts
    the carrier accepted so far, part index → carrier id (None: unchanged)."""
    if not rows:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(*_answer_sql(rows, now))
        return
    for row in rows:
        mid, state, gid = row[:3]
        fields = {"state": state, "gateway_id": gid, "updated_at": now}
        if len(row) > 3 and row[3] is not None:
            fields["parts"] = row[3]
        Handover.objects.filter(message_id=mid).update(**fields)


def _answer_sql(rows, now) -> tuple[str, list]:
    return (
        "UPDATE messaging_handover AS h SET state = v.st, "
        "gateway_id = v.gid, parts = COALESCE(v.parts::jsonb, h.parts), "
        "updated_at = %s "
        "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) "
        "AS v(id, st, gid, parts) "
        "WHERE h.message_id = v.id",
        [
            now,
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [
                json.dumps(r[3]) if len(r) > 3 and r[3] is not None else None
                for r in rows
            ],
        ],
    )


def accepted_parts(ids: list[int]) -> dict[int, dict[int, str]]:
    """The parts of these (long) messages the carrier accepted at an earlier
    attempt: message id → {part index: carrier id}.  Only those are skipped
    when a message is sent again."""
    found: dict[int, dict[int, str]] = {}
    for chunk in chunks(sorted(set(ids)), 5000):
        for mid, parts in (
            Handover.objects.filter(message_id__in=chunk)
            .exclude(parts={})
            .values_list("message_id", "parts")
        ):
            found[mid] = {int(k): v for k, v in (parts or {}).items()}
    return found


def recover_claims(channel: str, ids: list[int]) -> set[int]:
    """Stale claims (a worker died mid-batch) by what their hand-over says:
    accepted → «Отправлено» with the carrier's id; pending/unknown →
    «Отправлено», unconfirmed, waiting for a report.  Returns the ids handled
    (the rest are queued again by the caller)."""
    from .dispatch import mark_sent

    handled: set[int] = set()
    now = timezone.now()
    for chunk in chunks(ids, 5000):
        with transaction.atomic():
            rows = list(
                Handover.objects.filter(message_id__in=chunk).values_list(
                    "message_id", "state", "gateway_id"
                )
            )
            accepted = [(mid, gid) for mid, st, gid in rows if st == H.ACCEPTED]
            unknown = [mid for mid, st, _gid in rows if st in (H.PENDING, H.UNKNOWN)]
            mark_sent(channel, accepted, now)
            if unknown:
                Handover.objects.filter(message_id__in=unknown).update(
                    state=H.UNKNOWN, updated_at=now
                )
                mark_unconfirmed(channel, unknown, now)
                log.warning(
                    "%s: %d claimed messages of a dead worker have an unconfirmed "
                    "hand-over: not re-submitted, waiting for the carrier's report",
                    channel,
                    len(unknown),
                )
            handled.update(mid for mid, _gid in accepted)
            handled.update(unknown)
    return handled


def mark_unconfirmed(channel: str, ids: list[int], now) -> None:
    """Claimed messages whose hand-over is unknown become «Отправлено» (no
    carrier id) with the reason ``UNCONFIRMED``.  Call inside a transaction."""
    rows = list(
        Message.objects.filter(id__in=ids, status=S.SENDING).values_list(
            "id", "campaign_id", "status"
        )
    )
    set_statuses(
        rows, S.SENT, channel=channel, reason=UNCONFIRMED, extra={"sent_at": now}
    )


def resolve_unknown(channel: str, *, older_than: float, rule: str = "resubmit") -> int:
    """Unknown hand-overs no report settled within ``older_than`` seconds:
    queued again (``rule="resubmit"``: the carrier reported nothing, so it
    most likely never took the message — logged, marked in the message) or
    failed and refunded (``rule="fail"``).  Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    with transaction.atomic():
        ids = list(
            Handover.objects.select_for_update(skip_locked=True)
            .filter(channel=channel, state=H.UNKNOWN, updated_at__lt=cutoff)
            .values_list("message_id", flat=True)[:5000]
        )
        if not ids:
            return 0
        Handover.objects.filter(message_id__in=ids).update(
            state=H.RESUBMIT, updated_at=timezone.now()
        )
        rows = list(
            Message.objects.filter(id__in=ids, status=S.SENT).values_list(
                "id", "campaign_id", "status"
            )
        )
        if rule == "fail":
            moved = set_statuses(
                rows, S.FAILED, channel=channel, reason=NOT_CONFIRMED_FAILED
            )
        else:
            moved = set_statuses(
                rows,
                S.QUEUED,
                channel=channel,
                reason="",
                extra={"send_at": timezone.now()},
            )
            _flag_resubmitted([m[0] for m in moved])
        campaigns = {cid for _mid, cid, _old in moved}
        Campaign.objects.filter(pk__in=campaigns, status=Campaign.Status.DONE).update(
            status=Campaign.Status.RUNNING, finished_at=None
        )
    if moved:
        log.warning(
            "%s: %d messages whose hand-over was never confirmed nor reported "
            "within %ss: %s",
            channel,
            len(moved),
            older_than,
            "failed and refunded" if rule == "fail" else "queued again",
        )
    for cid in sorted(campaigns):
        if rule == "fail":
            messages_refund(campaign_id=cid)
        campaign_finish_if_done(campaign_id=cid)
    return len(moved)


def _flag_resubmitted(ids: list[int]) -> None:
    """``extra.handover_resubmitted`` on the messages queued again."""
    if ids and connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE messaging_message SET extra = extra || "
                "'{\"handover_resubmitted\": true}'::jsonb WHERE id = ANY(%s)",
                [ids],
            )


# --- reports -------------------------------------------------------------


def ids_by_gateway(channel: str, gateway_ids: list[str]) -> dict[str, int]:
    """carrier id → our message id, from the hand-overs (written as the
    carrier answers, so a report arriving before the batch is done finds its
    message), else from the messages (a hand-over purged already)."""
    found: dict[str, int] = {}
    for chunk in chunks(sorted(set(gateway_ids)), 5000):
        found.update(
            Handover.objects.filter(gateway_id__any=chunk)
            .exclude(gateway_id="")
            .values_list("gateway_id", "message_id")
        )
    missing = sorted(set(gateway_ids) - set(found))
    for chunk in chunks(missing, 5000):
        found.update(
            Message.objects.filter(channel=channel, gateway_id__any=chunk)
            .exclude(gateway_id="")
            .values_list("gateway_id", "id")
        )
    return found


def purge(days: int = 7) -> int:
    """Drop settled hand-overs (accepted, rejected) older than ``days``: the
    carrier id is on the message by then.  Open ones stay."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = Handover.objects.filter(
        state__in=[H.ACCEPTED, H.REJECTED], updated_at__lt=cutoff
    ).delete()
    return deleted


def settle_by_address(channel: str, reports: list[tuple[str, str]]) -> dict[str, int]:
    """Reports whose carrier id we do not know: (carrier id, destination
    address).  An open (pending or unknown) hand-over to that address is the
    one the report is about (the oldest first); its carrier id is recorded.
    Returns carrier id → message id for those settled."""
    settled: dict[str, int] = {}
    if not reports:
        return settled
    with transaction.atomic():
        open_by_address: dict[str, list[int]] = defaultdict(list)
        for mid, addr in (
            Handover.objects.select_for_update()
            .filter(
                channel=channel,
                state__in=[H.PENDING, H.UNKNOWN],
                address__in=sorted({a for _g, a in reports}),
            )
            .order_by("updated_at", "message_id")
            .values_list("message_id", "address")
        ):
            open_by_address[addr].append(mid)
        for gid, addr in reports:
            if open_by_address.get(addr):
                settled[gid] = open_by_address[addr].pop(0)
        if not settled:
            return settled
        answer([(mid, H.ACCEPTED, gid) for gid, mid in settled.items()])
        for gid, mid in settled.items():
            Message.objects.filter(id=mid, gateway_id="").update(gateway_id=gid)
            Message.objects.filter(id=mid, reason=UNCONFIRMED).update(reason="")
    log.info("%s: %d unconfirmed hand-overs settled by a report", channel, len(settled))
    return settled


def apply_reports(channel: str, receipts: list) -> int:
    """Receipts already carrying our message ids, in bulk."""
    return receipts_apply(channel=channel, receipts=receipts) if receipts else 0


# --- incoming --------------------------------------------------------------


def store_incoming(channel: str, items: list[dict]) -> int:
    """Store incoming messages (dicts: phone, recipient, text, external_id,
    received_at) and announce those answering one of ours
    (``replies_received``).  Repeats (same external id) are stored once."""
    if not items:
        return 0
    rows = []
    for item in items:
        phone = item["phone"]
        candidates = [phone, "+" + phone.lstrip("+"), phone.lstrip("+")]
        reply_to = (
            Message.objects.filter(
                channel=channel, phone__in=candidates, sent_at__isnull=False
            )
            .filter(sender=item["recipient"])
            .order_by("-id")
            .values("id", "campaign_id", "account_id", "contact_id", "phone")
            .first()
        ) or (
            Message.objects.filter(
                channel=channel, phone__in=candidates, sent_at__isnull=False
            )
            .order_by("-id")
            .values("id", "campaign_id", "account_id", "contact_id", "phone")
            .first()
        )
        rows.append(
            IncomingMessage(
                channel=channel,
                phone=(reply_to or {}).get("phone") or phone,
                recipient=item["recipient"][:64],
                text=item["text"],
                external_id=item["external_id"][:64],
                received_at=item["received_at"],
                account_id=(reply_to or {}).get("account_id"),
                campaign_id=(reply_to or {}).get("campaign_id"),
                message_id=(reply_to or {}).get("id"),
                contact_id=(reply_to or {}).get("contact_id"),
            )
        )
    with transaction.atomic():
        IncomingMessage.objects.bulk_create(rows, ignore_conflicts=True)
        replies = [
            {
                "account_id": r.account_id,
                "campaign_id": r.campaign_id,
                "message_id": r.message_id,
                "phone": r.phone,
                "contact_id": r.contact_id,
                "sender": r.recipient,
                "text": r.text,
                "external_id": r.external_id,
                "received_at": r.received_at,
            }
            for r in rows
            if r.account_id is not None
        ]
        if replies:
            transaction.on_commit(
                lambda: replies_received.send(
                    sender=IncomingMessage, channel=channel, replies=replies
                )
            )
    return len(rows)
