"""Reads of the partnership pages, every one scoped to the partner's account."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Max, OuterRef, Subquery, Sum
from django.utils import timezone

from billing.catalog import service_label
from billing.models import LedgerEntry, LedgerKind

from .models import Referral, Reward, RewardRate, Withdrawal

MONEY_IN = [LedgerKind.PAYMENT, LedgerKind.TOPUP]


def rates():
    return list(RewardRate.objects.all())


def clients_count(*, account_id: int) -> int:
    return Referral.objects.filter(partner_id=account_id).count()


def earned_total(*, account_id: int) -> Decimal:
    return Reward.objects.filter(partner_id=account_id).aggregate(s=Sum("amount"))[
        "s"
    ] or Decimal(0)


def clients(*, account_id: int):
    """The partner's clients: id, organisation, registration, last payment."""
    last_payment = (
        LedgerEntry.objects.filter(account_id=OuterRef("client_id"), kind__in=MONEY_IN)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    last_amount = (
        LedgerEntry.objects.filter(account_id=OuterRef("client_id"), kind__in=MONEY_IN)
        .order_by("-created_at")
        .values("amount")[:1]
    )
    return (
        Referral.objects.filter(partner_id=account_id)
        .select_related("client")
        .annotate(
            last_payment_at=Subquery(last_payment),
            last_payment_amount=Subquery(last_amount),
        )
        .order_by("-created_at", "-id")
    )


def _bounds(date_from, date_to):
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date_from, time.min), tz)
    end = timezone.make_aware(
        datetime.combine(date_to + timedelta(days=1), time.min), tz
    )
    return start, end


def services_rendered(*, account_id: int, date_from, date_to):
    """Referred clients' charges and refunds in the period with the reward
    from each (one row per ledger entry that earned or reversed a reward)."""
    start, end = _bounds(date_from, date_to)
    return (
        Reward.objects.filter(
            partner_id=account_id, created_at__gte=start, created_at__lt=end
        )
        .select_related("client", "entry")
        .order_by("-created_at", "-id")
    )


def services_totals(*, account_id: int, date_from, date_to) -> dict:
    start, end = _bounds(date_from, date_to)
    row = Reward.objects.filter(
        partner_id=account_id, created_at__gte=start, created_at__lt=end
    ).aggregate(base=Sum("base"), reward=Sum("amount"), n=Count("id"))
    return {
        "spent": -(row["base"] or Decimal(0)),
        "reward": row["reward"] or Decimal(0),
        "count": row["n"],
    }


def withdrawals(*, account_id: int):
    return Withdrawal.objects.filter(account_id=account_id).order_by(
        "-created_at", "-id"
    )


def label(service: str) -> str:
    return service_label(service)


def last_reward_at(*, account_id: int):
    return Reward.objects.filter(partner_id=account_id).aggregate(m=Max("created_at"))[
        "m"
    ]
