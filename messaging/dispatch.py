"""Dispatch: claim due messages in batches and hand them to the channel's
gateway.  The claim (a conditional UPDATE; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) is the guard against double sending: a row is claimed by one worker
only, and the gateway gets the message id as its idempotency key."""

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from . import registry
from .gateways.base import BaseGateway, GatewayError, OutgoingMessage
from .models import Campaign, Message, MessageStatus
from .statuses import (
    announce,
    campaign_finish_if_done,
    chunks,
    counters_shift,
    messages_refund,
    receipts_apply,
    set_statuses,
)

log = logging.getLogger(__name__)
S = MessageStatus

DISPATCHABLE = (Campaign.Status.RUNNING, Campaign.Status.SCHEDULED)


def _claim(channel: str, limit: int) -> list[tuple]:
    """Atomically move up to ``limit`` due messages of dispatchable campaigns to
    ``sending``; returns (id, campaign_id, old_status, phone, sender, text,
    expires_at, attempts, parts) rows."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(
                    """
                    WITH due AS (
                        SELECT m.id, m.status FROM messaging_message m
                        WHERE m.channel = %s AND m.status IN ('queued', 'deferred')
                          AND m.send_at <= %s
                          AND m.campaign_id = ANY(ARRAY(
                              SELECT id FROM messaging_campaign
                              WHERE status IN ('running', 'scheduled')))
                        ORDER BY m.send_at, m.id
                        LIMIT %s
                        FOR UPDATE OF m SKIP LOCKED
                    )
                    UPDATE messaging_message m
                    SET status = 'sending', status_at = %s, attempts = m.attempts + 1
                    FROM due WHERE m.id = due.id
                    RETURNING m.id, m.campaign_id, due.status, m.phone, m.sender,
                              m.text,
                              m.expires_at, m.attempts, m.parts
                    """,
                    [channel, now, limit, now],
                )
                rows = cur.fetchall()
        else:
            rows = list(
                Message.objects.filter(
                    channel=channel,
                    status__in=[S.QUEUED, S.DEFERRED],
                    send_at__lte=now,
                    campaign__status__in=DISPATCHABLE,
                )
                .order_by("send_at", "id")
                .values_list(
                    "id",
                    "campaign_id",
                    "status",
                    "phone",
                    "sender",
                    "text",
                    "expires_at",
                    "attempts",
                    "parts",
                )[:limit]
            )
            if rows:
                Message.objects.filter(id__in=[r[0] for r in rows]).update(
                    status=S.SENDING, status_at=now, attempts=F("attempts") + 1
                )
                rows = [r[:7] + (r[7] + 1, r[8]) for r in rows]
        # Deferred messages become "in progress" when claimed.
        deltas: dict[tuple[int, str], int] = defaultdict(int)
        for r in rows:
            if r[2] == S.DEFERRED:
                deltas[(r[1], S.DEFERRED)] -= 1
                deltas[(r[1], S.QUEUED)] += 1
        counters_shift(deltas)
        started = {r[1] for r in rows}
        if started:
            Campaign.objects.filter(
                pk__in=started, status=Campaign.Status.SCHEDULED
            ).update(status=Campaign.Status.RUNNING)
    return rows


def campaign_contents(kind, campaign_ids: set[int]) -> dict[int, object]:
    """campaign id → the channel's content instance for a claimed batch: one
    small query per batch (a batch rarely spans more than a few campaigns)."""
    if not campaign_ids:
        return {}
    return {
        cid: kind.content.load(content)
        for cid, content in Campaign.objects.filter(pk__in=campaign_ids).values_list(
            "id", "content"
        )
    }


def recover_stale_claims(channel: str) -> int:
    """Messages left in ``sending`` by a worker that died go back to the queue;
    the gateway's idempotency key makes a re-submission harmless.  A carrier
    link that records hand-overs settles first the ones it knows were (or may
    have been) handed over (``BaseGateway.recover_claims``)."""
    cutoff = timezone.now() - timedelta(seconds=settings.MESSAGING_STALE_CLAIM_SECONDS)
    stale = Message.objects.filter(
        channel=channel, status=S.SENDING, status_at__lt=cutoff
    )
    gateway = registry.get_gateway(channel)
    if type(gateway).recover_claims is BaseGateway.recover_claims:
        return stale.update(status=S.QUEUED)
    requeued = 0
    while ids := list(stale.order_by("id").values_list("id", flat=True)[:10000]):
        gateway.recover_claims(ids)
        requeued += Message.objects.filter(id__any=ids, status=S.SENDING).update(
            status=S.QUEUED
        )
    return requeued


def dispatch_batch(*, channel: str, limit: int | None = None) -> int:
    """Claim one batch and hand it to the gateway.  Returns how many messages
    were claimed (0 = nothing due)."""
    limit = limit or settings.MESSAGING_DISPATCH_BATCH
    gateway = registry.get_gateway(channel)
    if not gateway.available():
        return 0  # the carrier link is down: nothing is claimed, messages wait
    batch = _claim(channel, limit)
    if not batch:
        return 0
    now = timezone.now()
    live, expired = [], []
    for row in batch:
        (expired if row[6] and row[6] < now else live).append(row)
    kind = registry.get_channel(channel)
    contents = campaign_contents(kind, {r[1] for r in live})
    outgoing = [
        OutgoingMessage(
            id=r[0],
            phone=r[3],
            sender=r[4],
            text=r[5],
            content=contents[r[1]],
            expires_at=r[6],
            parts=r[8],
            attempt=r[7],
        )
        for r in live
    ]
    results_by_id = {}
    batch_error = None
    if outgoing:
        try:
            results_by_id = {r.message_id: r for r in gateway.submit(outgoing)}
        except GatewayError as exc:
            log.warning(
                "gateway %s failed a batch of %d: %s", channel, len(outgoing), exc
            )
            batch_error = exc
    sent, failed, retry, wait = [], defaultdict(list), [], []
    for r in live:
        result = results_by_id.get(r[0])
        error = batch_error or (
            result.error
            if result
            else GatewayError("Шлюз не вернул ответ", permanent=False)
        )
        if result is not None and result.error is None and batch_error is None:
            sent.append((r[0], result.gateway_id))
        elif error.wait:
            wait.append(r[0])
        elif error.permanent or r[7] >= kind.retry.attempts:
            failed[error.message].append((r[0], r[1], S.SENDING))
        else:
            retry.append(r[0])
    with transaction.atomic():
        set_statuses(
            [(r[0], r[1], S.SENDING) for r in expired],
            S.EXPIRED,
            channel=channel,
            reason="Истекло время жизни сообщения",
        )
        mark_sent(channel, sent, now)
        for reason, rows in failed.items():
            set_statuses(rows, S.FAILED, channel=channel, reason=reason)
        for chunk in chunks(retry, 5000):
            Message.objects.filter(id__any=chunk, status=S.SENDING).update(
                status=S.QUEUED, send_at=now + kind.retry.interval
            )
        for chunk in chunks(wait, 5000):
            Message.objects.filter(id__any=chunk, status=S.SENDING).update(
                status=S.QUEUED, attempts=F("attempts") - 1
            )
    receipts = gateway.drain_receipts()
    if receipts:
        receipts_apply(channel=channel, receipts=receipts)
    for campaign_id in {r[1] for r in batch}:
        if expired or failed:
            messages_refund(campaign_id=campaign_id)
        campaign_finish_if_done(campaign_id=campaign_id)
    return len(batch)


def mark_sent(channel: str, pairs: list[tuple[int, str]], now: datetime) -> None:
    """Set claimed messages to ``sent`` with their carrier ids, set-based, and
    shift counters for the rows that really moved (a receipt may already have
    moved a message past ``sending``).  Call inside a transaction."""
    if not pairs:
        return
    moved: list[tuple[int, int]] = []  # (message id, campaign id)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for chunk in chunks(pairs, 10000):
                # The planner underestimates the rare status 'sending' and
                # would join the batch in a nested loop (quadratic): hash it.
                cur.execute("SET LOCAL enable_nestloop = off")
                cur.execute(
                    "UPDATE messaging_message AS m SET status = %s, sent_at = %s, "
                    "status_at = %s, gateway_id = v.gid "
                    "FROM unnest(%s::bigint[], %s::text[]) AS v(id, gid) "
                    "WHERE m.id = v.id AND m.status = %s RETURNING m.id, m.campaign_id",
                    [
                        S.SENT,
                        now,
                        now,
                        [p[0] for p in chunk],
                        [p[1] for p in chunk],
                        S.SENDING,
                    ],
                )
                moved.extend(cur.fetchall())
                cur.execute("SET LOCAL enable_nestloop = on")
    else:
        gids = dict(pairs)
        for chunk in chunks(list(gids), 5000):
            rows = list(
                Message.objects.filter(id__in=chunk, status=S.SENDING).values_list(
                    "id", "campaign_id"
                )
            )
            Message.objects.bulk_update(
                [
                    Message(
                        id=mid,
                        status=S.SENT,
                        sent_at=now,
                        status_at=now,
                        gateway_id=gids[mid],
                    )
                    for mid, _cid in rows
                ],
                ["status", "sent_at", "status_at", "gateway_id"],
                batch_size=500,
            )
            moved.extend(rows)
    shift: dict[tuple[int, str], int] = defaultdict(int)
    for _mid, cid in moved:
        shift[(cid, S.QUEUED)] -= 1
        shift[(cid, S.SENT)] += 1
    counters_shift(shift)
    announce(channel, [(mid, cid, S.SENDING, S.SENT) for mid, cid in moved])


def dispatch_channel(
    *, channel: str, max_batches: int = 100000, limit: int | None = None
) -> int:
    """Dispatch everything due on a channel, batch by batch."""
    recover_stale_claims(channel)
    total = 0
    for _ in range(max_batches):
        n = dispatch_batch(channel=channel, limit=limit)
        if not n:
            break
        total += n
    return total
