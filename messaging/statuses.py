"""Status changes, counters, receipts and refunds — the parts of the pipeline
that move messages between statuses.  Every change shifts ``CampaignCounter``
rows in the same transaction and announces itself after commit
(``messaging.signals.statuses_changed``)."""

import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.utils import timezone

from billing.models import LedgerKind
from billing.services import ledger_post

from . import registry
from .gateways.base import Receipt
from .models import (
    PENDING_STATUSES,
    REFUNDABLE_STATUSES,
    STATUS_RANK,
    Campaign,
    CampaignCounter,
    Message,
    MessageStatus,
)
from .signals import statuses_changed

S = MessageStatus

# A message claimed for submission counts as "queued" (П) in reports: the claim
# is an internal step, so it does not touch the counters.
COUNTER_BUCKET = {S.SENDING: S.QUEUED}


def bucket(status: str) -> str:
    return COUNTER_BUCKET.get(status, status)


def chunks(seq, size):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def locked(qs):
    """SELECT … FOR UPDATE where the database supports it (SQLite serialises
    writers already)."""
    if connection.features.has_select_for_update:
        return qs.select_for_update()
    return qs


# --- counters ------------------------------------------


def counters_init(*, campaign_id: int) -> None:
    """Create the campaign's counter rows at zero.  Optional: a missing row
    counts as zero and ``counters_shift`` inserts it (one-message API sends
    write only their non-zero row, ``messaging.instant``)."""
    CampaignCounter.objects.bulk_create(
        [
            CampaignCounter(campaign_id=campaign_id, status=s, count=0)
            for s in S.values
            if s not in COUNTER_BUCKET
        ],
        ignore_conflicts=True,
    )


def counters_shift(deltas: dict[tuple[int, str], int]) -> None:
    """Apply counter deltas keyed by (campaign_id, status) in one upsert (a
    missing row is created).  Call inside the transaction that changed the
    statuses; rows are touched in a fixed order so concurrent transactions
    cannot deadlock on them."""
    merged: dict[tuple[int, str], int] = defaultdict(int)
    for (campaign_id, status), delta in deltas.items():
        merged[(campaign_id, bucket(status))] += delta
    rows = [(cid, st, delta) for (cid, st), delta in sorted(merged.items()) if delta]
    if not rows:
        return
    table = CampaignCounter._meta.db_table
    with connection.cursor() as cursor:
        for part in chunks(rows, 1000):
            values = ", ".join(["(%s, %s, %s)"] * len(part))
            cursor.execute(
                f"INSERT INTO {table} (campaign_id, status, count) VALUES {values} "
                f"ON CONFLICT (campaign_id, status) "
                f"DO UPDATE SET count = {table}.count + excluded.count",
                [value for row in part for value in row],
            )


def campaign_counters(*, campaign_id: int) -> dict[str, int]:
    """status → count for every counted status (zero where no row)."""
    counts = dict.fromkeys((s for s in S.values if s not in COUNTER_BUCKET), 0)
    counts.update(
        CampaignCounter.objects.filter(campaign_id=campaign_id).values_list(
            "status", "count"
        )
    )
    return counts


def announce(channel: str, changes: list[tuple[int, int, str, str]]) -> None:
    """Send ``statuses_changed`` once the current transaction commits."""
    if changes:
        transaction.on_commit(
            lambda: statuses_changed.send(
                sender=Message, channel=channel, changes=changes
            )
        )


def set_statuses(
    rows: list[tuple[int, int, str]],
    new_status: str,
    *,
    channel: str,
    reason: str = "",
    at: datetime | None = None,
    extra: dict | None = None,
    merge: dict | None = None,
) -> list[tuple[int, int, str]]:
    """Move messages (id, campaign_id, expected old status) to ``new_status``
    and shift counters — only the rows still in the status the caller expects:
    the update is conditional, and counters move from the status each row
    really had (a worker that resumes after its claim was recovered and sent
    by another must not shift counters from a status it assumed).  Returns
    the rows that moved.  ``merge`` (message id → (facts, (price, parts)))
    writes receipts' facts and settled prices in the same statement.  Call
    inside a transaction."""
    if not rows:
        return []
    at = at or timezone.now()
    fields = {"status": new_status, "status_at": at, **(extra or {})}
    if reason:
        fields["reason"] = reason[:200]
    moved = _update_from(rows, fields, merge or {})
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for _id, campaign_id, old in moved:
        if bucket(old) != bucket(new_status):
            deltas[(campaign_id, bucket(old))] -= 1
            deltas[(campaign_id, bucket(new_status))] += 1
    counters_shift(deltas)
    announce(channel, [(mid, cid, old, new_status) for mid, cid, old in moved])
    return moved


# Rows of a set-based update with facts and settled prices, sent as one JSON
# document (``_rows_json``): the facts are JSON already, and one string
# parameter is quoted at C speed where an array of thousands of JSON texts
# was escaped element by element in Python (most of applying call results).
ROWS_SQL = (
    "jsonb_to_recordset(%s::jsonb) "
    "AS v(id bigint, old text, x jsonb, price numeric, parts int)"
)


def _rows_json(rows, merge: dict) -> str:
    """``rows`` (id, …, old status or None) with ``merge``'s facts and
    settled (price, parts) by id, as the JSON ``ROWS_SQL`` reads (a key left
    out reads as NULL; prices as text, read exactly as numeric)."""
    out = []
    append = out.append
    for r in rows:
        row = {"id": r[0]}
        if r[2] is not None:
            row["old"] = r[2]
        got = merge.get(r[0])
        if got is not None:
            x, p = got
            if x:
                row["x"] = x
            if p:
                row["price"] = str(p[0])
                row["parts"] = p[1]
        append(row)
    return json.dumps(out, cls=DjangoJSONEncoder)


def _update_from(
    rows: list[tuple[int, int, str]], fields: dict, merge: dict | None = None
) -> list[tuple[int, int, str]]:
    """``UPDATE … SET fields WHERE id = row id AND status = row's old status
    RETURNING`` the rows that matched, set-based, in chunks (with ``merge``:
    each row's facts and settled price too — a row is rewritten once)."""
    table = Message._meta.db_table
    columns = list(fields)
    assignments = ", ".join(f"{c} = %s" for c in columns)
    values = [fields[c] for c in columns]
    moved: list[tuple[int, int, str]] = []
    with connection.cursor() as cur:
        if connection.vendor == "postgresql" and merge:
            for part in chunks(rows, 10000):
                cur.execute(
                    f"UPDATE {table} AS m SET {assignments}, "
                    "extra = CASE WHEN v.x IS NULL THEN m.extra "
                    "ELSE m.extra || v.x END, "
                    "price = COALESCE(v.price, m.price), "
                    "parts = COALESCE(v.parts, m.parts) "
                    f"FROM {ROWS_SQL} "
                    "WHERE m.id = v.id AND m.status = v.old "
                    "RETURNING m.id, m.campaign_id, v.old",
                    [*values, _rows_json(part, merge)],
                )
                moved.extend(cur.fetchall())
            return moved
        if connection.vendor == "postgresql":
            for part in chunks(rows, 10000):
                cur.execute(
                    f"UPDATE {table} AS m SET {assignments} "
                    "FROM unnest(%s::bigint[], %s::text[]) AS v(id, old) "
                    "WHERE m.id = v.id AND m.status = v.old "
                    "RETURNING m.id, m.campaign_id, v.old",
                    [*values, [r[0] for r in part], [r[2] for r in part]],
                )
                moved.extend(cur.fetchall())
            return moved
        values = [
            connection.ops.adapt_datetimefield_value(v)
            if isinstance(v, datetime)
            else v
            for v in values
        ]
        by_old: dict[str, list[int]] = defaultdict(list)
        for mid, _cid, old in rows:
            by_old[old].append(mid)
        for old, ids in by_old.items():
            for part in chunks(ids, 500):
                marks = ", ".join(["%s"] * len(part))
                cur.execute(
                    f"UPDATE {table} SET {assignments} "
                    f"WHERE id IN ({marks}) AND status = %s "
                    "RETURNING id, campaign_id",
                    [*values, *part, old],
                )
                moved.extend((mid, cid, old) for mid, cid in cur.fetchall())
    if merge:
        done = {mid for mid, _cid, _old in moved}
        _merge_extra(
            {mid: merge[mid][0] for mid in done if mid in merge and merge[mid][0]},
            {mid: merge[mid][1] for mid in done if mid in merge and merge[mid][1]},
        )
    return moved


# --- receipts ------------------------------------------


def receipts_apply(*, channel: str, receipts: list[Receipt]) -> int:
    """Apply carrier receipts in bulk.  Idempotent: a receipt that would move a
    message backwards (late, repeated, out of order) is ignored, and a final
    status is never overwritten.  A receipt's ``extra`` is merged into the
    message's (also when the status does not move); its ``units`` settle the
    price of channels billed after the fact, once.  Returns how many messages
    changed status."""
    by_message = [r for r in receipts if r.message_id is not None]
    by_gateway = [r for r in receipts if r.message_id is None and r.gateway_id]
    if not by_message and not by_gateway:
        return 0
    # Our message id of each receipt in ``by_message``, side by side: a receipt
    # by the carrier's id joins it with the id the locking read found, and is
    # applied from then on exactly as one by ours — not copied
    # (``dataclasses.replace`` cost 0.3 s of CPU per 100,000 receipts, most of
    # what the carrier-id path took more than ours; a list of ints costs ~0).
    mids = [r.message_id for r in by_message]
    changed = 0
    with transaction.atomic():
        state: dict[int, tuple[int, str]] = {}
        # Channels billed after the fact read what settles a price with the
        # lock: (campaign, price, country, operator) of the rows not settled
        # yet.
        billing: dict[int, tuple] | None = (
            {} if registry.get_channel(channel).settles_after else None
        )

        def load(qs) -> list[tuple]:
            """Lock the rows and note their state; returns (id, gateway id)."""
            qs = locked(qs.order_by("id"))
            if billing is None:
                rows = qs.values_list("id", "campaign_id", "status", "gateway_id")
                state.update({mid: (cid, st) for mid, cid, st, _g in rows})
                return [(mid, gid) for mid, _c, _s, gid in rows]
            rows = qs.annotate(
                settled=ExpressionWrapper(
                    Q(extra__has_key="settled"), output_field=BooleanField()
                )
            ).values_list(
                "id",
                "campaign_id",
                "status",
                "price",
                "country",
                "operator",
                "settled",
                "gateway_id",
            )
            for mid, cid, st, price, country, operator, settled, _g in rows:
                state[mid] = (cid, st)
                if not settled:
                    billing[mid] = (cid, price, country, operator)
            return [(row[0], row[-1]) for row in rows]

        if by_gateway:
            # Reports by the carrier's id read and lock their rows by that id
            # in one statement (as fast as by ours): one array parameter per
            # chunk, and the partial index's own predicate spelled out (the
            # planner cannot prove ``<> ''`` from a long array).
            mapping: dict[str, int] = {}
            for chunk in chunks(sorted({r.gateway_id for r in by_gateway}), 5000):
                qs = Message.objects.filter(
                    channel=channel, gateway_id__any=chunk
                ).exclude(gateway_id="")
                mapping.update((gid, mid) for mid, gid in load(qs))
            for r in by_gateway:
                mid = mapping.get(r.gateway_id)
                if mid is not None:
                    by_message.append(r)
                    mids.append(mid)
        ids = sorted(set(mids) - set(state))
        for chunk in chunks(ids, 5000):
            load(Message.objects.filter(id__any=chunk, channel=channel))
        # Apply in rank order so "delivered" then "clicked" in one batch both land.
        groups: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
        retries: dict[tuple, list[tuple[int, int, str]]] = defaultdict(list)
        order = sorted(
            range(len(by_message)),
            key=lambda i: STATUS_RANK.get(by_message[i].status, 0),
        )
        for i in order:
            r, mid = by_message[i], mids[i]
            if mid not in state or r.status not in STATUS_RANK:
                continue
            cid, old = state[mid]
            if r.retry_at is not None:
                # Another attempt later (a redial): back to «deferred» with
                # that send time, from the carrier's statuses only.
                if old in (S.SENDING, S.SENT):
                    retries[(r.retry_at, r.reason)].append((mid, cid, old))
                    state[mid] = (cid, S.DEFERRED)
                continue
            if not receipt_may_move(old, r.status):
                continue
            groups[(r.status, r.reason)].append((mid, cid, old))
            state[mid] = (cid, r.status)
        extras: dict[int, dict] = defaultdict(dict)
        for r, mid in zip(by_message, mids, strict=True):
            if r.extra and mid in state:
                extras[mid].update(r.extra)
        measured = {
            mid: r.units
            for r, mid in zip(by_message, mids, strict=True)
            if r.units is not None and mid in state
        }
        prices = (
            _settle_units(channel, measured, extras, billing or {}) if measured else {}
        )
        for (status, reason), rows in groups.items():
            # Facts and settled prices of the rows that move are written in
            # the same statement as their status (a row is rewritten once).
            merge = {
                r[0]: (extras.get(r[0]), prices.get(r[0]))
                for r in rows
                if r[0] in extras or r[0] in prices
            }
            moved = set_statuses(
                rows, status, channel=channel, reason=reason, merge=merge
            )
            changed += len(moved)
            for mid, _cid, _old in moved:
                extras.pop(mid, None)
                prices.pop(mid, None)
        for (retry_at, reason), rows in sorted(retries.items()):
            moved = set_statuses(
                rows,
                S.DEFERRED,
                channel=channel,
                reason=reason,
                extra={"send_at": retry_at},
            )
            changed += len(moved)
            # A campaign whose last message was out finished meanwhile: it runs
            # again until the retry is made.
            Campaign.objects.filter(
                pk__in={cid for _mid, cid, _old in moved},
                status=Campaign.Status.DONE,
            ).update(status=Campaign.Status.RUNNING, finished_at=None)
        # Facts of messages whose status did not move (a repeated receipt,
        # a redial, facts alone).
        _merge_extra(extras, prices)
    return changed


def _merge_extra(
    extras: dict[int, dict], prices: dict[int, tuple[Decimal, int]] | None = None
) -> None:
    """``Message.extra`` ← ``extra`` ∪ the receipts' facts, and the settled
    (price, parts) of messages billed after the fact — one set-based UPDATE."""
    prices = prices or {}
    if not extras and not prices:
        return
    table = Message._meta.db_table
    items = sorted((mid, extras.get(mid, {})) for mid in set(extras) | set(prices))
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            for part in chunks(items, 10000):
                cur.execute(
                    f"UPDATE {table} AS m SET "
                    "extra = m.extra || COALESCE(v.x, '{}'::jsonb), "
                    "price = COALESCE(v.price, m.price), "
                    "parts = COALESCE(v.parts, m.parts) "
                    f"FROM {ROWS_SQL} WHERE m.id = v.id",
                    [
                        _rows_json(
                            [(mid, None, None) for mid, _x in part],
                            {mid: (x, prices.get(mid)) for mid, x in part},
                        )
                    ],
                )
            return
        for mid, x in items:
            cur.execute(
                f"UPDATE {table} SET extra = json_patch(extra, %s) WHERE id = %s",
                [json.dumps(x, cls=DjangoJSONEncoder), mid],
            )
            if mid in prices:
                price, parts = prices[mid]
                cur.execute(
                    f"UPDATE {table} SET price = %s, parts = %s WHERE id = %s",
                    [str(price), parts, mid],
                )


CENTS = Decimal("0.01")


def _campaign_prices(kind, campaign_ids) -> dict[int, tuple[int, object]]:
    """campaign id → (account id, the prices it was held at): its channel's
    price line for its sender and content at the tier of its launch
    (``ChannelKind.prices``, the launch's own rule)."""
    out = {}
    for campaign in Campaign.objects.filter(pk__in=sorted(campaign_ids)).select_related(
        "account"
    ):
        options = campaign.options or {}
        out[campaign.pk] = (
            campaign.account_id,
            kind.prices(
                campaign.account,
                sender=campaign.sender,
                text=campaign.text,
                content=kind.content.load(campaign.content),
                tier=options.get("tier"),
            ),
        )
    return out


def _settle_units(
    channel: str,
    measured: dict[int, int],
    extras: dict[int, dict],
    billing: dict[int, tuple],
) -> dict[int, tuple[Decimal, int]]:
    """Channels billed after the fact (calls by the second): the launch held
    the price of the estimated units; the receipt's measured units are priced
    by the same rule at the campaign's tier and price line (``Rate.cost``: a
    call's first 20 seconds whole, then each second; nothing for an
    unanswered call), never above what was held, and the difference goes
    back once (``extra.settled``, added to ``extras``).  ``billing``: message
    id → (campaign, price, country, operator) of the locked messages not
    settled yet.  Returns the new (price, parts) by message id for the status
    update to write."""
    kind = registry.get_channel(channel)
    if not kind.settles_after:
        return {}
    due = sorted(mid for mid in measured if mid in billing)
    if not due:
        return {}
    prices_of = _campaign_prices(kind, {billing[mid][0] for mid in due})
    refunds: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    prices: dict[int, tuple[Decimal, int]] = {}
    costs: dict[tuple, Decimal] = {}
    for mid in due:
        cid, price, country, operator = billing[mid]
        account_id, price_list = prices_of[cid]
        billed = max(0, kind.bill_units(measured[mid]))
        key = (cid, country, operator, billed)
        cost = costs.get(key)
        if cost is None:
            cost = costs[key] = price_list.cost(
                billed, country or "RU", operator
            ).quantize(CENTS)
        new_price = min(price, cost)
        refunds[(account_id, cid)] += price - new_price
        prices[mid] = (new_price, min(billed, 32767))
        extras.setdefault(mid, {}).update(settled=True, billed_units=billed)
    for (account_id, cid), amount in sorted(refunds.items()):
        if amount > 0:
            ledger_post(
                account_id=account_id,
                amount=amount,
                kind=LedgerKind.REFUND,
                reason=f"{kind.settle_reason} (рассылка #{cid})",
                service=kind.service,
            )
            Campaign.objects.filter(pk=cid).update(cost=F("cost") - amount)
    return prices


def receipt_may_move(old: str, new: str) -> bool:
    """A receipt moves a message only forward; messages that never reached the
    carrier (cancelled, expired, failed) never change; "undelivered" is final
    except that a click or a view proves delivery."""
    if old in REFUNDABLE_STATUSES or old in (S.MODERATION,):
        return False
    if old == S.UNDELIVERED:
        return new in (S.CLICKED, S.VIEWED)
    return STATUS_RANK[new] > STATUS_RANK[old]


# --- money back ------------------------------------------


# What a refund of messages in each status is, in the ledger (a send error is not
# a cancellation).
REFUND_REASONS = {
    S.CANCELLED: "Возврат за отменённые сообщения",
    S.EXPIRED: "Возврат за сообщения с истекшим временем жизни",
    S.FAILED: "Возврат за сообщения, не принятые оператором (ошибка отправки)",
}


def messages_refund(*, campaign_id: int) -> Decimal:
    """Refund every message of the campaign that never reached the recipient
    by the carrier's rule (cancelled, expired, failed) and is not refunded yet:
    one ledger entry per kind of refund, each saying what it is for.  The flag
    and the entry change in one transaction, so each message is refunded
    once."""
    with transaction.atomic():
        rows = list(
            locked(
                Message.objects.filter(
                    campaign_id=campaign_id,
                    status__in=list(REFUNDABLE_STATUSES),
                    refunded=False,
                ).order_by("id")
            ).values_list("id", "price", "status")
        )
        if not rows:
            return Decimal("0")
        for chunk in chunks([r[0] for r in rows], 5000):
            Message.objects.filter(id__any=chunk).update(refunded=True)
        by_status: dict[str, list[Decimal]] = defaultdict(list)
        for _id, price, status in rows:
            by_status[status].append(price)
        account_id, channel = Campaign.objects.values_list("account_id", "channel").get(
            pk=campaign_id
        )
        service = registry.get_channel(channel).service
        total = Decimal("0")
        for status in sorted(by_status):
            amount = sum(by_status[status], Decimal("0"))
            if amount <= 0:
                continue
            total += amount
            ledger_post(
                account_id=account_id,
                amount=amount,
                kind=LedgerKind.REFUND,
                reason=f"{REFUND_REASONS[status]} (рассылка #{campaign_id}, "
                f"{len(by_status[status])} шт.)",
                service=service,
            )
        if total > 0:
            Campaign.objects.filter(pk=campaign_id).update(cost=F("cost") - total)
    return total


NO_REPORT = "Нет отчёта о доставке: истекло время жизни сообщения"


def sweep_unconfirmed(
    *, channel: str, now: datetime | None = None, limit: int = 5000
) -> int:
    """Messages the carrier accepted («Отпр») whose report never came within
    their lifetime (``expires_at``) or, without one, the channel's
    ``receipt_timeout``, become final — «Истекло время жизни» — and are
    refunded, so no campaign waits forever (a worker killed with receipts in
    flight, a broker restarted without persistence).  A late report then
    changes nothing.  Returns how many messages were swept."""
    kind = registry.get_channel(channel)
    now = now or timezone.now()
    swept = 0
    while True:
        with transaction.atomic():
            rows = list(
                locked(
                    Message.objects.filter(channel=channel, status=S.SENT)
                    .filter(
                        models.Q(expires_at__lt=now)
                        | models.Q(
                            expires_at__isnull=True,
                            sent_at__lt=now - kind.receipt_timeout,
                        )
                    )
                    .order_by("id")
                ).values_list("id", "campaign_id", "status")[:limit]
            )
            moved = set_statuses(rows, S.EXPIRED, channel=channel, reason=NO_REPORT)
        for campaign_id in sorted({cid for _mid, cid, _old in moved}):
            messages_refund(campaign_id=campaign_id)
        swept += len(moved)
        if len(rows) < limit:
            return swept


def campaign_finish_if_done(*, campaign_id: int) -> bool:
    """Mark a running campaign done when none of its messages is pending."""
    pending = Message.objects.filter(
        campaign_id=campaign_id, status__in=list(PENDING_STATUSES)
    ).exists()
    if pending:
        return False
    return bool(
        Campaign.objects.filter(
            pk=campaign_id,
            status__in=[Campaign.Status.RUNNING, Campaign.Status.SCHEDULED],
        ).update(status=Campaign.Status.DONE, finished_at=timezone.now())
    )
