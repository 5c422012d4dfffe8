"""Reads of the billing app: ledger, prices and tiers, reports, documents."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Subquery, Sum
from django.db.models.functions import TruncDay, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone

from contacts.phones import country_name

from . import catalog
from .models import (
    Invoice,
    LedgerEntry,
    LedgerKind,
    Payment,
    Requisites,
    Tariff,
    TariffTier,
)

# Used when no tariff row matches at all (a fresh database before seeding).
FALLBACK_PRICES = {"sms": Decimal("2.77")}
CENTS = Decimal("0.01")

# Money in (top-ups and payments) vs money spent on services.
INCOME_KINDS = (LedgerKind.TOPUP, LedgerKind.PAYMENT, LedgerKind.BONUS)
SERVICE_KINDS = (LedgerKind.CHARGE, LedgerKind.REFUND)


def service_label(service: str) -> str:
    """The service's name in billing documents (registered by its channel)."""
    return catalog.service_label(service)


def ledger_sum(*, account_id: int) -> Decimal:
    total = LedgerEntry.objects.filter(account_id=account_id).aggregate(
        s=Sum("amount")
    )["s"]
    return total or Decimal("0.00")


def ledger_entries(*, account_id: int):
    return LedgerEntry.objects.filter(account_id=account_id)


def _day_bounds(date_from: dt.date | None, date_to: dt.date | None):
    """Local-midnight bounds: [date_from 00:00, date_to + 1 day 00:00)."""
    tz = timezone.get_current_timezone()
    start = (
        timezone.make_aware(dt.datetime.combine(date_from, dt.time.min), tz)
        if date_from
        else None
    )
    end = (
        timezone.make_aware(
            dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min), tz
        )
        if date_to
        else None
    )
    return start, end


def ledger_filtered(
    *,
    account_id: int,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    kinds: list[str] | None = None,
):
    qs = LedgerEntry.objects.filter(account_id=account_id)
    start, end = _day_bounds(date_from, date_to)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs.order_by("-created_at", "-id")


# --- tiers and prices ---------------------------------------------------------


def tiers() -> list[TariffTier]:
    return list(TariffTier.objects.order_by("min_balance"))


def tier_for_balance(
    balance: Decimal, tier_rows: list[TariffTier] | None = None
) -> int:
    """The highest tier whose threshold the balance reaches (0 below all)."""
    chosen = 0
    for row in tier_rows if tier_rows is not None else tiers():
        if balance >= row.min_balance:
            chosen = row.tier
    return chosen


def account_tier(account) -> int:
    """Staff's override wins over the tier of the balance."""
    if account.tariff_tier is not None:
        return account.tariff_tier
    return tier_for_balance(account.balance)


def account_tier_sql(account: str) -> str:
    """``account_tier`` compiled, for the row alias ``account`` of
    ``cabinet_account`` (statements that price in SQL)."""
    return f"""COALESCE(
        {account}.tariff_tier,
        (SELECT tt.tier FROM billing_tarifftier tt
         WHERE tt.min_balance <= {account}.balance
         ORDER BY tt.min_balance DESC LIMIT 1),
        0)"""


@dataclass(frozen=True)
class Rate:
    """One tariff row's price of units: ``price`` per unit, or — with a first
    block — ``first_price`` for the first ``first_units`` units together
    (a call answered for 1 to 20 seconds) and ``price`` for each unit after
    them (manual 4.5: «Первые 20 секунд», «Далее, за секунду»).  ``cost`` is
    the one rule every price of units goes through: the quote, the hold, the
    messages written, the settlement on measured units; ``cost_sql`` is its
    compiled form."""

    price: Decimal
    first_units: int = 0
    first_price: Decimal | None = None

    @property
    def has_block(self) -> bool:
        return bool(self.first_units) and self.first_price is not None

    def cost(self, units: int) -> Decimal:
        """What ``units`` cost (nothing for none: an unanswered call)."""
        if units <= 0:
            return Decimal("0")
        if self.has_block:
            return self.first_price + self.price * max(0, units - self.first_units)
        return self.price * units


def cost_sql(*, price: str, first_units: str, first_price: str, units: str) -> str:
    """``Rate.cost`` compiled; the arguments are SQL expressions."""
    return f"""(CASE
        WHEN {units} <= 0 THEN 0
        WHEN {first_units} > 0 AND {first_price} IS NOT NULL
            THEN {first_price} + {price} * GREATEST({units} - {first_units}, 0)
        ELSE {price} * {units} END)"""


class PriceList:
    """The prices one account pays on one channel, loaded in one query so pricing
    a million messages costs one query.  The tier is staff's override
    (``Account.tariff_tier``) or the tier the balance reaches (``TariffTier``).
    The most specific row wins: an operator's price over the country-wide one,
    the account's tier over the base tier 0.  ``tier`` fixes the tier (the
    one the user was shown a price at) instead of reading it from the balance
    now; ``variant`` is the channel's price line (``Tariff.variant``)."""

    def __init__(
        self, *, account, channel: str, tier: int | None = None, variant: str = ""
    ):
        self.channel = channel
        rows = Tariff.objects.filter(channel=channel, variant=variant)
        if tier is None and account.tariff_tier is not None:
            tier = account.tariff_tier
        if tier is not None:
            rows = rows.filter(tier__in={tier, 0})
        else:
            by_balance = (
                TariffTier.objects.filter(min_balance__lte=account.balance)
                .order_by("-min_balance")
                .values("tier")[:1]
            )
            rows = rows.filter(Q(tier=0) | Q(tier=Subquery(by_balance)))
        self._rates: dict[tuple[str, str], tuple[bool, Rate]] = {}
        for country, operator, row_tier, price, first_units, first_price in (
            rows.values_list(
                "country", "operator", "tier", "price", "first_units", "first_price"
            )
        ):
            key = (country, operator)
            rank = row_tier != 0
            current = self._rates.get(key)
            if current is None or rank > current[0]:
                self._rates[key] = (rank, Rate(price, first_units, first_price))

    def table(self) -> dict[tuple[str, str], Decimal]:
        """Every (country, operator) → unit price this account pays (operator
        "" = the country's other operators), for pricing inside SQL."""
        return {key: rate.price for key, (_rank, rate) in self._rates.items()}

    def costs(self, units: int) -> dict[tuple[str, str], Decimal]:
        """Every (country, operator) → what ``units`` cost there (``Rate.cost``),
        for pricing a send of one text inside SQL."""
        return {key: rate.cost(units) for key, (_rank, rate) in self._rates.items()}

    def rate(self, country: str = "RU", operator: str = "") -> Rate:
        for key in ((country, operator or ""), (country, ""), ("RU", "")):
            found = self._rates.get(key)
            if found is not None:
                return found[1]
        return Rate(FALLBACK_PRICES.get(self.channel, Decimal("1.00")))

    def price(self, country: str = "RU", operator: str = "") -> Decimal:
        """The price of one unit (after a first block, if the row has one)."""
        return self.rate(country, operator).price

    def cost(self, units: int, country: str = "RU", operator: str = "") -> Decimal:
        """What ``units`` cost for this account (``Rate.cost``)."""
        return self.rate(country, operator).cost(units)


def unit_price_sql(
    *,
    channel: str,
    country: str,
    operator: str,
    tier: str,
    fallback: str,
    units: str = "1",
) -> str:
    """``PriceList.cost`` compiled for one (country, operator) of the base
    price line: the most specific row (operator, then the country, then
    Russia), the tier's over the base tier's, priced for ``units`` by its
    rule (``cost_sql``), else ``fallback`` per unit.  The arguments are SQL
    expressions."""
    row_cost = cost_sql(
        price="t.price",
        first_units="t.first_units",
        first_price="t.first_price",
        units=units,
    )
    return f"""COALESCE(
        (SELECT {row_cost} FROM billing_tariff t
         WHERE t.channel = {channel} AND t.variant = ''
           AND t.tier IN (0, {tier})
           AND ((t.country = {country} AND t.operator = {operator})
                OR (t.country = {country} AND t.operator = '')
                OR (t.country = 'RU' AND t.operator = ''))
         ORDER BY CASE
             WHEN t.country = {country} AND t.operator = {operator} THEN 0
             WHEN t.country = {country} THEN 1
             ELSE 2 END,
             t.tier <> 0 DESC
         LIMIT 1),
        {fallback} * {units})"""


def tariff_price(
    *, account, channel: str, country: str = "RU", operator: str = ""
) -> Decimal:
    """Price of one unit (an SMS part, a message, a call) for this account."""
    return PriceList(account=account, channel=channel).price(country, operator)


def tariff_channels() -> list[str]:
    """Channels with one price line (country × operator), SMS first: a channel
    with lines of its own (``Tariff.variant``, Viber) shows them on its own
    tariffs page."""
    channels = set(
        Tariff.objects.filter(variant="").values_list("channel", flat=True).distinct()
    )
    return sorted(channels, key=lambda c: (c != "sms", c))


@dataclass
class TariffTable:
    channel: str
    tier: int
    tier_rows: list[TariffTier]
    rows: list[dict] = field(default_factory=list)
    range_from: Decimal = Decimal("0")
    range_to: Decimal | None = None


def tariff_table(
    *, channel: str, balance: Decimal, tier: int | None = None, variant: str = ""
) -> TariffTable:
    """Prices of a channel for the tier a balance reaches (the slider), each
    (country, operator) with its tier price or, if the tier has none, the base."""
    tier_rows = tiers()
    chosen = tier if tier is not None else tier_for_balance(balance, tier_rows)
    table = TariffTable(channel=channel, tier=chosen, tier_rows=tier_rows)
    for i, row in enumerate(tier_rows):
        if row.tier == chosen:
            table.range_from = row.min_balance
            table.range_to = (
                tier_rows[i + 1].min_balance if i + 1 < len(tier_rows) else None
            )
    best: dict[tuple[str, str], tuple[bool, Decimal]] = {}
    for country, operator, row_tier, price in Tariff.objects.filter(
        channel=channel, variant=variant, tier__in={0, chosen}
    ).values_list("country", "operator", "tier", "price"):
        rank = row_tier != 0
        if (country, operator) not in best or rank > best[(country, operator)][0]:
            best[(country, operator)] = (rank, price)
    for (country, operator), (_rank, price) in sorted(
        best.items(),
        key=lambda kv: (kv[0][0] != "RU", kv[0][0], kv[0][1] != "", kv[0][1]),
    ):
        table.rows.append(
            {
                "country": country,
                "country_name": country_name(country),
                "operator": operator,
                "price": price,
            }
        )
    return table


# --- services rendered (M1) -------------------------------------------------------


@dataclass
class ServicesReport:
    rows: list[dict]
    spent: Decimal
    paid: Decimal
    payments: list


def services_rendered(
    *,
    account_id: int,
    date_from: dt.date,
    date_to: dt.date,
    group: str = "day",
    with_payments: bool = False,
) -> ServicesReport:
    """Charges grouped by service and day (or month) with refunds netted in,
    plus what was paid in the period.  One grouped query each."""
    qs = ledger_filtered(account_id=account_id, date_from=date_from, date_to=date_to)
    trunc = TruncMonth("created_at") if group == "month" else TruncDay("created_at")
    grouped = (
        qs.filter(kind__in=SERVICE_KINDS)
        .order_by()
        .annotate(period=trunc)
        .values("service", "period")
        .annotate(
            total=Sum("amount"),
            operations=Count("id", filter=Q(kind=LedgerKind.CHARGE)),
        )
        .order_by("period", "service")
    )
    rows = []
    spent = Decimal("0")
    for g in grouped:
        total = -(g["total"] or Decimal("0")).quantize(CENTS)
        spent += total
        period = (
            timezone.localtime(g["period"])
            if timezone.is_aware(g["period"])
            else g["period"]
        )
        label = f"{service_label(g['service'])} за " + (
            period.strftime("%m.%Y")
            if group == "month"
            else period.strftime("%d.%m.%Y")
        )
        rows.append(
            {
                "service": g["service"],
                "period": period,
                "description": label,
                "operations": g["operations"],
                "amount": total,
            }
        )
    paid_qs = qs.filter(kind__in=INCOME_KINDS)
    paid = (paid_qs.aggregate(s=Sum("amount"))["s"] or Decimal("0")).quantize(CENTS)
    payments = list(paid_qs[:200]) if with_payments else []
    return ServicesReport(
        rows=rows, spent=spent.quantize(CENTS), paid=paid, payments=payments
    )


# --- reconciliation act (M6) -------------------------------------------------------


@dataclass
class Act:
    account_id: int
    date_from: dt.date
    date_to: dt.date
    opening: Decimal
    closing: Decimal
    rows: list[dict]
    debit_total: Decimal
    credit_total: Decimal
    requisites: dict


def reconciliation_act(*, account_id: int, date_from: dt.date, date_to: dt.date) -> Act:
    """Opening balance = the ledger before ``date_from``; rows = the period's
    entries grouped by day and kind (services per day, every payment alone);
    closing = opening + period total, which is the ledger's balance at the end."""
    start, end = _day_bounds(date_from, date_to)
    base = LedgerEntry.objects.filter(account_id=account_id)
    opening = base.filter(created_at__lt=start).aggregate(s=Sum("amount"))[
        "s"
    ] or Decimal("0")
    period = base.filter(created_at__gte=start, created_at__lt=end)
    rows = []
    grouped = (
        period.filter(kind__in=SERVICE_KINDS)
        .order_by()
        .annotate(day=TruncDay("created_at"))
        .values("day", "service")
        .annotate(total=Sum("amount"))
        .order_by("day", "service")
    )
    for g in grouped:
        day = timezone.localtime(g["day"]).date()
        rows.append(
            {
                "date": day,
                "description": f"{service_label(g['service'])} за {day:%d.%m.%Y}",
                "amount": g["total"],
            }
        )
    for e in period.exclude(kind__in=SERVICE_KINDS).order_by("created_at", "id"):
        rows.append(
            {
                "date": timezone.localtime(e.created_at).date(),
                "description": f"{e.get_kind_display()}: {e.reason}",
                "amount": e.amount,
            }
        )
    rows.sort(key=lambda r: r["date"])
    debit = sum((-r["amount"] for r in rows if r["amount"] < 0), Decimal("0"))
    credit = sum((r["amount"] for r in rows if r["amount"] > 0), Decimal("0"))
    requisites = Requisites.objects.filter(account_id=account_id).first()
    return Act(
        account_id=account_id,
        date_from=date_from,
        date_to=date_to,
        opening=opening,
        closing=opening + credit - debit,
        rows=rows,
        debit_total=debit,
        credit_total=credit,
        requisites=requisites.snapshot() if requisites else {},
    )


# --- documents and payments ----------------------------------------------------------


def requisites_for(*, account_id: int) -> Requisites | None:
    return Requisites.objects.filter(account_id=account_id).first()


def invoices(*, account_id: int):
    return Invoice.objects.filter(account_id=account_id)


def invoice_get(*, account_id: int, pk: int) -> Invoice:
    return get_object_or_404(Invoice, account_id=account_id, pk=pk)


def payments(*, account_id: int):
    return Payment.objects.filter(account_id=account_id)


def payment_by_token(*, account_id: int, token: str) -> Payment:
    return get_object_or_404(Payment, account_id=account_id, token=token)
