"""Reads for the reports (R1–R8).  Every function takes the account first.

Campaign figures come from ``CampaignCounter`` (kept by the engine in the same
transaction as every status change), never from counting message rows; lists
are keyset-paginated so the 1,000th page costs what the first one does."""

import base64
import binascii
from collections import defaultdict
from dataclasses import astuple, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cabinet.formats import money
from contacts.models import Group, Unsubscribe
from contacts.phones import country_name
from messaging import registry
from messaging.models import Campaign, CampaignCounter, Message, MessageStatus, Source

from .filters import ReportFilters
from .models import SavedFilter

PAGE_SIZE = 50
COUNT_CAP = 10_000
BREAKDOWN_TTL = 24 * 3600
CENT = Decimal("0.01")
S = MessageStatus

# R6: who counts as "delivered" / "not delivered" when exporting recipients.
DELIVERED_STATUSES = (S.DELIVERED, S.VIEWED, S.CLICKED, S.SUCCESS, S.IVR)
UNDELIVERED_STATUSES = (S.UNDELIVERED, S.FAILED, S.EXPIRED)
RECIPIENT_SETS = {"delivered": DELIVERED_STATUSES, "undelivered": UNDELIVERED_STATUSES}
# The live progress of a campaign: messages that reached the carrier (whatever
# it answered since) and those of them delivered.
SENT_STATUSES = (*DELIVERED_STATUSES, S.SENT, S.UNDELIVERED, S.SPAM, S.UNSUBSCRIBED)
# Campaigns whose page refreshes itself, and how often (seconds): fast while
# something moves, slowly while it waits for its time or a moderator.
LIVE_POLL = {
    Campaign.Status.PREPARING: 2,
    Campaign.Status.RUNNING: 2,
    Campaign.Status.SCHEDULED: 30,
    Campaign.Status.MODERATION: 30,
    Campaign.Status.PAUSED: 30,
}
# What «Отменить рассылку» can still stop (the engine cancels the unsent rest).
CANCELLABLE = tuple(LIVE_POLL)


class BadCursor(ValueError):
    """A cursor that was not produced by us (tampered or truncated)."""


# --- cursors ---


def encode_cursor(*parts) -> str:
    raw = "|".join(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# A cursor is the key of the row it pages from: ``time|id`` (or ``id``) walks to
# older rows ("next"), ``<|time|id`` (or ``<|id``) walks back to newer ones
# ("previous").
BACK = "<"


def _decode(cursor: str, n: int) -> tuple[bool, list[str]]:
    """``(backward, parts)`` of a cursor with ``n`` key parts."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise BadCursor(cursor) from exc
    backward = len(parts) == n + 1 and parts[0] == BACK
    if backward:
        parts = parts[1:]
    if len(parts) != n:
        raise BadCursor(cursor)
    return backward, parts


def decode_time_cursor(cursor: str) -> tuple[bool, datetime, int]:
    backward, (ts, pk) = _decode(cursor, 2)
    try:
        at = datetime.fromisoformat(ts)
        if timezone.is_naive(at):
            raise ValueError(ts)
        return backward, at, int(pk)
    except ValueError as exc:
        raise BadCursor(cursor) from exc


def decode_id_cursor(cursor: str) -> tuple[bool, int]:
    backward, (pk,) = _decode(cursor, 1)
    try:
        return backward, int(pk)
    except ValueError as exc:
        raise BadCursor(cursor) from exc


@dataclass
class Page:
    items: list
    next_cursor: str = ""
    total: int | None = None
    prev_cursor: str = ""


def _keyset_page(qs: QuerySet, cursor: str, size: int, fields: tuple[str, ...]):
    """Keyset page over ``fields`` (ending in ``id``) descending, both ways.

    ``next_cursor`` is set when older rows follow; ``prev_cursor`` when the page
    was reached through a cursor (newer rows may precede it).  Going back past
    the newest row gives the first page."""

    def key(row):
        return [getattr(row, f) for f in fields]

    if not cursor:
        rows = list(qs.order_by(*(f"-{f}" for f in fields))[: size + 1])
        nxt = encode_cursor(*key(rows[size - 1])) if len(rows) > size else ""
        return Page(rows[:size], nxt)
    if len(fields) == 2:
        backward, at, pk = decode_time_cursor(cursor)
        time_field = fields[0]
        older = qs.filter(**{f"{time_field}__lte": at}).exclude(
            **{time_field: at, "id__gte": pk}
        )
        newer = qs.filter(**{f"{time_field}__gte": at}).exclude(
            **{time_field: at, "id__lte": pk}
        )
    else:
        backward, pk = decode_id_cursor(cursor)
        at = None
        older, newer = qs.filter(id__lt=pk), qs.filter(id__gt=pk)
    if backward:
        rows = list(newer.order_by(*fields)[: size + 1])
        if not rows:
            return _keyset_page(qs, "", size, fields)
        more = len(rows) > size
        rows = rows[:size][::-1]
        prev = encode_cursor(BACK, *key(rows[0])) if more else ""
        return Page(rows, encode_cursor(*key(rows[-1])), prev_cursor=prev)
    rows = list(older.order_by(*(f"-{f}" for f in fields))[: size + 1])
    nxt = encode_cursor(*key(rows[size - 1])) if len(rows) > size else ""
    rows = rows[:size]
    if rows:
        prev = encode_cursor(BACK, *key(rows[0]))
    else:  # past the end: back to the rows up to and including the cursor's
        prev = encode_cursor(BACK, *([at] if at else []), pk - 1)
    return Page(rows, nxt, prev_cursor=prev)


def _time_page(
    qs: QuerySet, cursor: str, size: int, time_field: str = "created_at"
) -> Page:
    """Keyset page over ``(time_field, id)`` descending.  The ``<=`` on the time
    keeps the condition sargable for the (account, -time) index."""
    return _keyset_page(qs, cursor, size, (time_field, "id"))


# --- campaigns (R1, R3) ---


@dataclass
class CampaignRow:
    campaign: Campaign
    counters: dict[str, int]
    cells: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{_campaigns_root()}{self.campaign.pk}/"

    @property
    def total(self) -> int:
        return sum(self.counters.values())


def campaigns_filtered(
    *, account_id: int, filters: ReportFilters, deferred: bool = False
) -> QuerySet[Campaign]:
    qs = Campaign.objects.filter(account_id=account_id)
    if deferred:
        # Deferred: messages still waiting for their time (whatever the period).
        waiting = CampaignCounter.objects.filter(
            campaign=OuterRef("pk"), status=S.DEFERRED, count__gt=0
        )
        # …or scheduled campaigns whose messages are not written yet.
        qs = qs.filter(filters.campaign_q(dated=False)).filter(
            Exists(waiting) | Q(status=Campaign.Status.SCHEDULED)
        )
    else:
        qs = qs.filter(filters.campaign_q())
    if filters.statuses:
        having = CampaignCounter.objects.filter(
            campaign=OuterRef("pk"), status__in=filters.statuses, count__gt=0
        )
        qs = qs.filter(Exists(having))
    return qs


def _campaigns_root() -> str:
    """``/reports/campaigns/`` (reversed once per row would cost more than the
    row's database share)."""
    return reverse("reports:campaign", args=[0])[:-2]


def counters_for(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """status → count per campaign, one query."""
    result: dict[int, dict[str, int]] = defaultdict(dict)
    if campaign_ids:
        for cid, status, count in CampaignCounter.objects.filter(
            campaign_id__in=campaign_ids, count__gt=0
        ).values_list("campaign_id", "status", "count"):
            result[cid][status] = count
    return result


def with_counters(campaigns: list[Campaign], kind=None) -> list[CampaignRow]:
    counters = counters_for([c.pk for c in campaigns])
    rows = []
    for c in campaigns:
        own = counters.get(c.pk, {})
        own_kind = kind or _kind_or_none(c.channel)
        columns = own_kind.columns if own_kind else ()
        rows.append(
            CampaignRow(
                c, own, [sum(own.get(s, 0) for s in col.statuses) for col in columns]
            )
        )
    return rows


def _kind_or_none(code: str):
    try:
        return registry.get_channel(code)
    except LookupError:
        return None


def campaign_page(
    *,
    account_id: int,
    filters: ReportFilters,
    cursor: str = "",
    deferred: bool = False,
    size: int | None = None,
    kind=None,
    with_total: bool = True,
) -> Page:
    """A page of campaign rows with their status counters (3 queries: rows,
    counters, total)."""
    qs = campaigns_filtered(account_id=account_id, filters=filters, deferred=deferred)
    page = _time_page(qs, cursor, size or PAGE_SIZE)
    page.items = with_counters(page.items, kind)
    if with_total:
        # Counting stops at COUNT_CAP: an API-heavy account may have millions
        # of one-message campaigns in a month.
        page.total = qs.order_by()[: COUNT_CAP + 1].count()
    return page


def campaign_get(*, account_id: int, campaign_id: int) -> Campaign:
    """``Campaign.DoesNotExist`` for another account's id."""
    return Campaign.objects.get(account_id=account_id, pk=campaign_id)


@dataclass
class CampaignDetail:
    row: CampaignRow
    groups: list[str]
    payment_type: str
    moderation: str
    channel_label: str
    source_label: str


def campaign_cancellable(campaign: Campaign) -> bool:
    return campaign.status in CANCELLABLE


@dataclass
class CampaignProgress:
    """Where a campaign is (from its row and counters; no message is counted):
    audience entries read by preparation out of the estimate, messages
    written, and of them handed to the carrier, delivered, still waiting."""

    estimate: int
    read: int
    messages: int
    sent: int
    delivered: int
    waiting: int
    preparing: bool
    poll_seconds: int

    @property
    def percent(self) -> int:
        """Preparation while it lasts, then messages that left the queue."""
        if self.preparing:
            return min(100, 100 * self.read // self.estimate) if self.estimate else 0
        if not self.messages:
            return 100
        return 100 * (self.messages - self.waiting) // self.messages


def campaign_progress(campaign: Campaign, counters: dict[str, int]) -> CampaignProgress:
    options = campaign.options or {}
    preparing = not options.get("prepared_done") and campaign.status in (
        Campaign.Status.PREPARING,
        Campaign.Status.MODERATION,
    )
    return CampaignProgress(
        estimate=max(int(options.get("audience_estimate") or 0), campaign.prepared),
        read=campaign.prepared,
        messages=campaign.recipients,
        sent=sum(counters.get(s, 0) for s in SENT_STATUSES),
        delivered=sum(counters.get(s, 0) for s in DELIVERED_STATUSES),
        waiting=sum(counters.get(s, 0) for s in (S.QUEUED, S.DEFERRED, S.MODERATION)),
        preparing=preparing,
        poll_seconds=LIVE_POLL.get(campaign.status, 0),
    )


def cancel_refund_estimate(campaign: Campaign) -> Decimal:
    """What cancelling now would put back on the balance: the unsent messages'
    price, or — before preparation is settled — all the money held."""
    if not (campaign.options or {}).get("settled"):
        return campaign.cost
    return Message.objects.filter(
        campaign_id=campaign.pk,
        status__in=[S.QUEUED, S.DEFERRED, S.MODERATION],
        refunded=False,
    ).aggregate(s=Sum("price"))["s"] or Decimal("0")


def campaign_detail(*, account, campaign: Campaign) -> CampaignDetail:
    """Everything R3 shows (2 more queries: counters, audience groups)."""
    row = with_counters([campaign])[0]
    audience = campaign.audience if isinstance(campaign.audience, dict) else {}
    group_ids = [g for g in audience.get("group_ids") or [] if isinstance(g, int)]
    groups = (
        list(
            Group.objects.filter(account_id=account.pk, pk__in=group_ids).values_list(
                "name", flat=True
            )
        )
        if group_ids
        else []
    )
    if audience.get("phones"):
        groups.append(_("Номера, введённые вручную"))
    if account.credit_limit > 0:
        payment = _("С баланса (кредитный лимит %(limit)s)") % {
            "limit": money(account.credit_limit)
        }
    else:
        payment = _("С баланса (предоплата)")
    if campaign.status == Campaign.Status.MODERATION:
        moderation = _("На модерации")
    elif campaign.status == Campaign.Status.REJECTED:
        moderation = _("Отклонена") + (
            f": {campaign.moderation_note}" if campaign.moderation_note else ""
        )
    else:
        moderation = _("Успешно")
    kind = _kind_or_none(campaign.channel)
    return CampaignDetail(
        row,
        groups,
        payment,
        moderation,
        str(kind.label) if kind else campaign.channel,
        campaign.get_source_display(),
    )


@dataclass
class BreakdownRow:
    country_code: str
    operator: str
    messages: int
    parts: int
    cost: Decimal

    @property
    def country(self) -> str:
        """In the viewer's language (the cached rows keep the code)."""
        return country_name(self.country_code) if self.country_code else "—"


def campaign_breakdown(
    *, account_id: int, campaign: Campaign, by_operator: bool = True
) -> list[BreakdownRow]:
    """Cost by country/operator ("детализация"): one GROUP BY over the
    campaign's messages (refunded messages cost nothing).

    A million-message campaign takes about two seconds to aggregate, so the
    result is cached under the campaign's id, status and cost: a message's
    country, operator, parts and price never change after launch, and every
    refund lowers ``Campaign.cost`` in the same transaction, so any change
    that could alter the breakdown also changes the key."""
    key = (
        f"reports:breakdown:v2:{campaign.pk}:{campaign.status}:{campaign.cost}"
        f":{int(by_operator)}"
    )
    cached = cache.get(key)
    if cached is not None:
        return [BreakdownRow(*r) for r in cached]
    # A channel priced by country alone (Viber) is broken down by country.
    group = ("country", "operator") if by_operator else ("country",)
    rows = (
        Message.objects.filter(account_id=account_id, campaign_id=campaign.pk)
        .values(*group)
        .annotate(
            messages=Count("id"),
            parts=Sum("parts"),
            cost=Sum("price", filter=Q(refunded=False)),
        )
        .order_by(*group)
    )
    result = [
        BreakdownRow(
            r["country"] or "",
            r.get("operator") or "—",
            r["messages"],
            r["parts"] or 0,
            Decimal(r["cost"] or 0).quantize(CENT),
        )
        for r in rows
    ]
    cache.set(key, [astuple(r) for r in result], BREAKDOWN_TTL)
    return result


# --- messages (R4) ---

MESSAGE_FIELDS = (
    "id",
    "campaign_id",
    "channel",
    "phone",
    "sender",
    "text",
    "parts",
    "price",
    "status",
    "reason",
    "operator",
    "country",
    "created_at",
    "send_at",
    "sent_at",
    "status_at",
    # Channel facts (a call's seconds and digit) for the channel's
    # ``message_facts`` line.
    "extra",
)


def campaign_messages(
    *, account_id: int, campaign_id: int, statuses: tuple = ()
) -> QuerySet[Message]:
    qs = Message.objects.filter(account_id=account_id, campaign_id=campaign_id)
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs.only(*MESSAGE_FIELDS)


def campaign_messages_page(
    *,
    account_id: int,
    campaign_id: int,
    statuses: tuple = (),
    cursor: str = "",
    size: int | None = None,
) -> Page:
    """Newest first, keyset on id (one query)."""
    qs = campaign_messages(
        account_id=account_id, campaign_id=campaign_id, statuses=statuses
    )
    return _keyset_page(qs, cursor, size or PAGE_SIZE, ("id",))


def messages_page(
    *,
    account_id: int,
    filters: ReportFilters,
    cursor: str = "",
    size: int | None = None,
) -> Page:
    """The "all messages" tab: newest first by creation time (one query)."""
    qs = Message.objects.filter(account_id=account_id).filter(filters.message_q())
    return _time_page(qs.only(*MESSAGE_FIELDS), cursor, size or PAGE_SIZE)


# --- charts (R7) and by sending method ---


def _campaign_day():
    return TruncDate("campaign__created_at", tzinfo=timezone.get_current_timezone())


def chart_data(*, account_id: int, filters: ReportFilters, kind) -> dict:
    """Messages by status column per day, cost per day, and messages/cost per
    channel, for the period.  Days are the campaigns' creation days (local
    time).  Summed from ``CampaignCounter`` (3 queries), so the cost is one row
    per campaign × status, not per message."""
    start = filters.start or (timezone.now() - timedelta(days=30))
    end = filters.end or timezone.now() + timedelta(seconds=1)
    first_day = timezone.localtime(start).date()
    last_day = timezone.localtime(end - timedelta(microseconds=1)).date()
    if (last_day - first_day).days > 400:
        first_day = last_day - timedelta(days=400)
        start = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    no_period = ReportFilters(
        **{**filters.__dict__, "start": None, "end": None, "channel": ""}
    )
    base = Campaign.objects.filter(
        account_id=account_id, created_at__gte=start, created_at__lt=end
    ).filter(no_period.campaign_q())
    days = [
        first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)
    ]
    index = {d: i for i, d in enumerate(days)}
    column_of = {s: col.code for col in kind.columns for s in col.statuses}

    counters = CampaignCounter.objects.filter(
        campaign__in=base.filter(channel=kind.code), count__gt=0
    )
    if filters.statuses:  # the status filter keeps only its column's series
        counters = counters.filter(status__in=filters.statuses)
    counters = (
        counters.annotate(day=_campaign_day())
        .values("day", "status")
        .annotate(n=Sum("count"))
    )
    series = {col.code: [0] * len(days) for col in kind.columns}
    for r in counters:
        code = column_of.get(r["status"])
        i = index.get(_as_date(r["day"]))
        if code is not None and i is not None:
            series[code][i] += r["n"]

    cost = [0.0] * len(days)
    for r in (
        base.filter(channel=kind.code)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(cost=Sum("cost"))
    ):
        i = index.get(_as_date(r["day"]))
        if i is not None:
            cost[i] = float(r["cost"] or 0)

    labels = {k.code: str(k.label) for k in registry.all_channels()}
    per_channel = []
    for r in (
        base.values("channel")
        .annotate(cost=Sum("cost"), messages=Sum("recipients"))
        .order_by("channel")
    ):
        per_channel.append(
            {
                "channel": r["channel"],
                "label": labels.get(r["channel"], r["channel"]),
                "messages": r["messages"] or 0,
                "cost": float(r["cost"] or 0),
            }
        )
    return {
        "days": [d.strftime("%d.%m") for d in days],
        "columns": [
            {"code": c.code, "abbr": str(c.abbr), "title": str(c.title)}
            for c in kind.columns
        ],
        "series": series,
        "cost": cost,
        "channels": per_channel,
    }


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


@dataclass
class SourceRow:
    source: str
    label: str
    campaigns: int
    cost: Decimal
    cells: list[int]
    total: int


def by_source(*, account_id: int, filters: ReportFilters, kind) -> list[SourceRow]:
    """Campaigns, status columns and cost per sending method (2 queries)."""
    base = campaigns_filtered(account_id=account_id, filters=filters)
    totals = {
        r["source"]: r
        for r in base.values("source")
        .annotate(campaigns=Count("id"), cost=Sum("cost"))
        .order_by()
    }
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in (
        CampaignCounter.objects.filter(campaign__in=base.values("id"), count__gt=0)
        .values("campaign__source", "status")
        .annotate(n=Sum("count"))
        .order_by()
    ):
        counts[r["campaign__source"]][r["status"]] += r["n"]
    labels = dict(Source.choices)
    rows = []
    for source, t in sorted(totals.items(), key=lambda kv: -kv[1]["campaigns"]):
        own = counts.get(source, {})
        rows.append(
            SourceRow(
                source,
                str(labels.get(source, source)),
                t["campaigns"],
                Decimal(t["cost"] or 0).quantize(CENT),
                [sum(own.get(s, 0) for s in col.statuses) for col in kind.columns],
                sum(own.values()),
            )
        )
    return rows


# --- unsubscribed, saved filters, groups ---


def unsubscribed_page(
    *,
    account_id: int,
    channel: str,
    filters: ReportFilters,
    cursor: str = "",
    size: int | None = None,
) -> Page:
    qs = Unsubscribe.objects.filter(account_id=account_id, channel=channel)
    if filters.start:
        qs = qs.filter(created_at__gte=filters.start)
    if filters.end:
        qs = qs.filter(created_at__lt=filters.end)
    if filters.sender:
        qs = qs.filter(sender__iexact=filters.sender)
    if filters.q:
        qs = qs.filter(phone__contains=filters.q)
    return _time_page(qs, cursor, size or PAGE_SIZE)


def replies_page(
    *,
    account_id: int,
    kind,
    filters: ReportFilters,
    cursor: str = "",
    size: int | None = None,
) -> Page:
    """The «Ответы» tab: the channel's replies (``ChannelKind.replies``), newest
    first, with the period, sender and text (or number) filters."""
    qs = kind.replies(account_id)
    if filters.start:
        qs = qs.filter(received_at__gte=filters.start)
    if filters.end:
        qs = qs.filter(received_at__lt=filters.end)
    if filters.sender:
        qs = qs.filter(sender__iexact=filters.sender)
    if filters.q:
        qs = qs.filter(Q(text__icontains=filters.q) | Q(phone__contains=filters.q))
    return _time_page(qs, cursor, size or PAGE_SIZE, time_field="received_at")


def saved_filters(*, account_id: int, channel: str) -> list[SavedFilter]:
    return list(SavedFilter.objects.filter(account_id=account_id, channel=channel))


def export_groups(*, account_id: int) -> list[Group]:
    """Groups a recipient export may go to (not deleted, not stop-lists)."""
    return list(
        Group.objects.filter(
            account_id=account_id, deleted_at__isnull=True, is_stoplist=False
        ).only("id", "name")
    )


def recipient_phones(*, account_id: int, campaign_id: int, which: str):
    """Distinct phones of the campaign's messages in the delivered/undelivered
    set, streamed in phone order."""
    return (
        Message.objects.filter(
            account_id=account_id,
            campaign_id=campaign_id,
            status__in=RECIPIENT_SETS[which],
        )
        .order_by("phone")
        .values_list("phone", flat=True)
        .distinct()
    )
