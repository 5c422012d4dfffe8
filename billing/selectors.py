from decimal import Decimal

from django.db.models import Sum

from .models import LedgerEntry, Tariff

# Used when no tariff row matches at all (a fresh database before seeding).
FALLBACK_PRICES = {"sms": Decimal("2.77")}


def ledger_sum(*, account_id: int) -> Decimal:
    total = LedgerEntry.objects.filter(account_id=account_id).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")


def ledger_entries(*, account_id: int):
    return LedgerEntry.objects.filter(account_id=account_id)


class PriceList:
    """The prices one account pays on one channel, loaded once so pricing a
    million messages costs one query.  The most specific row wins: an operator's
    price over the country-wide one, the account's tier over the base tier."""

    def __init__(self, *, account, channel: str):
        self.channel = channel
        tier = account.tariff_tier or 0
        self._prices: dict[tuple[str, str], tuple[tuple[bool, bool], Decimal]] = {}
        rows = Tariff.objects.filter(channel=channel, tier__in={tier, 0}).values_list(
            "country", "operator", "tier", "price"
        )
        for country, operator, row_tier, price in rows:
            key = (country, operator)
            rank = (row_tier == tier and tier != 0, True)
            current = self._prices.get(key)
            if current is None or rank > current[0]:
                self._prices[key] = (rank, price)

    def price(self, country: str = "RU", operator: str = "") -> Decimal:
        for key in ((country, operator or ""), (country, ""), ("RU", "")):
            found = self._prices.get(key)
            if found is not None:
                return found[1]
        return FALLBACK_PRICES.get(self.channel, Decimal("1.00"))


def tariff_price(*, account, channel: str, country: str = "RU", operator: str = "") -> Decimal:
    """Price of one unit (an SMS part, a message, a call) for this account."""
    return PriceList(account=account, channel=channel).price(country, operator)
