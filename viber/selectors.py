"""Viber reads.  Every function that serves a client takes the account first;
another account's object is ``DoesNotExist`` (a 404 in views and the API)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Concat, Trim

from billing.selectors import tariff_table
from contacts.models import Contact
from contacts.phones import country_name
from messaging.models import SenderName

from .models import Reply, SenderPackage, ViberImage
from .periods import month_end

CHANNEL = "viber"


# --- images -------------------------------------------------------------------------


def image_exists(*, account_id: int | None, public_id: str) -> bool:
    if not isinstance(public_id, str) or len(public_id) != 32:
        return False
    qs = ViberImage.objects.filter(public_id=public_id)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return qs.exists()


def image_get(*, account_id: int, public_id: str) -> ViberImage:
    """``ViberImage.DoesNotExist`` for another account's image."""
    return ViberImage.objects.get(account_id=account_id, public_id=str(public_id))


def image_public(*, public_id: str) -> ViberImage:
    """An image by its unguessable id: the address the carrier fetches it from
    (and the recipients' phones after it)."""
    return ViberImage.objects.get(public_id=str(public_id))


def images_by_id(*, public_ids) -> dict[str, ViberImage]:
    ids = [i for i in public_ids if i]
    if not ids:
        return {}
    return {i.public_id: i for i in ViberImage.objects.filter(public_id__in=ids)}


# --- sender names -------------------------------------------------------------------


@dataclass
class NameRow:
    name: SenderName
    packages: list[SenderPackage] = field(default_factory=list)
    today: date | None = None

    @property
    def current(self) -> SenderPackage | None:
        for p in self.packages:
            if (
                p.status == SenderPackage.Status.PAID
                and p.starts_on <= self.today <= p.ends_on
            ):
                return p
        return None

    @property
    def upcoming(self) -> SenderPackage | None:
        future = [
            p
            for p in self.packages
            if p.status == SenderPackage.Status.PAID and p.starts_on > self.today
        ]
        return min(future, key=lambda p: p.starts_on) if future else None

    @property
    def open(self) -> SenderPackage | None:
        for p in self.packages:
            if p.status in (SenderPackage.Status.WAITING, SenderPackage.Status.UNPAID):
                return p
        return None

    @property
    def last_paid(self) -> SenderPackage | None:
        paid = [p for p in self.packages if p.status == SenderPackage.Status.PAID]
        return max(paid, key=lambda p: p.ends_on) if paid else None

    @property
    def state(self) -> str:
        """active / upcoming / unpaid / waiting / expired / rejected."""
        if self.name.status == SenderName.Status.REJECTED:
            return "rejected"
        if self.name.status == SenderName.Status.PENDING:
            return "waiting"
        if self.current:
            return "active"
        if self.upcoming:
            return "upcoming"
        if self.open:
            return "unpaid"
        return "expired" if self.last_paid else "unpaid"

    @property
    def can_renew(self) -> bool:
        """The next month can be bought while the current one runs (or right
        away once the package has ended or was not paid)."""
        if self.name.status != SenderName.Status.APPROVED:
            return False
        last = self.last_paid
        if last is None or self.open:
            return True
        return last.ends_on <= month_end(self.today)


def sender_rows(*, account_id: int, today: date) -> list[NameRow]:
    """The account's Viber names (requests, approvals, rejections) with their
    packages: two queries."""
    names = list(SenderName.objects.filter(account_id=account_id, channel=CHANNEL))
    by_name: dict[int, list[SenderPackage]] = {n.pk: [] for n in names}
    for p in SenderPackage.objects.filter(
        account_id=account_id, sender_name_id__in=list(by_name)
    ).order_by("-starts_on", "-id"):
        by_name[p.sender_name_id].append(p)
    return [NameRow(n, by_name[n.pk], today) for n in names]


# --- replies ------------------------------------------------------------------------


def replies_for_reports(*, account_id: int) -> QuerySet[Reply]:
    """The «Ответы» tab: the account's replies with the contact's name (one
    query per page)."""
    name = Contact.objects.filter(account_id=account_id, pk=OuterRef("contact_id"))
    return Reply.objects.filter(account_id=account_id).annotate(
        contact_name=Subquery(
            name.annotate(
                full=Trim(
                    Concat(
                        "last_name",
                        Value(" "),
                        "first_name",
                        output_field=CharField(),
                    )
                )
            ).values("full")[:1]
        )
    )


def replies_of_phone(*, account_id: int, phone: str) -> QuerySet[Reply]:
    """Everything one contact answered (the online chat shows it)."""
    return Reply.objects.filter(account_id=account_id, phone=phone)


# --- tariffs (5.5) ------------------------------------------------------------------

TARIFF_COLUMNS = ("own:promo", "own:service", "shared:promo", "shared:service")


@dataclass
class ViberTariffs:
    tier: int
    range_from: Decimal
    range_to: Decimal | None
    tier_rows: list
    rows: list[dict]


def viber_tariffs(
    *, balance: Decimal, countries: list[str] | None = None
) -> ViberTariffs:
    """Price of one message per country for the tier the balance reaches: own /
    shared name × promotional / service (4 queries, one per price line)."""
    tables = {
        v: tariff_table(channel=CHANNEL, balance=balance, variant=v)
        for v in TARIFF_COLUMNS
    }
    first = tables[TARIFF_COLUMNS[0]]
    by_country: dict[str, dict] = {}
    for variant, table in tables.items():
        for row in table.rows:
            if row["operator"]:
                continue
            entry = by_country.setdefault(
                row["country"],
                {
                    "country": row["country"],
                    "country_name": country_name(row["country"]),
                },
            )
            entry[variant.replace(":", "_")] = row["price"]
    rows = sorted(by_country.values(), key=lambda r: str(r["country_name"]))
    if countries:
        rows = [r for r in rows if r["country"] in countries]
    return ViberTariffs(
        first.tier, first.range_from, first.range_to, first.tier_rows, rows
    )


def tariff_countries() -> list[tuple[str, str]]:
    """Countries with Viber prices, for the page's country filter."""
    table = tariff_table(channel=CHANNEL, balance=Decimal("0"), variant="shared:promo")
    return sorted(
        (
            (r["country"], str(r["country_name"]))
            for r in table.rows
            if not r["operator"]
        ),
        key=lambda c: c[1],
    )
