from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from .models import Campaign, Message

# Outcomes that mean "this number did not get the message" for the phonebook's
# cleanup of undelivered numbers (C10a).
NOT_DELIVERED = frozenset({"undelivered", "failed", "expired"})


def recent_campaigns(*, account_id: int, limit: int = 10):
    return list(
        Campaign.objects.filter(account_id=account_id).order_by("-created_at", "-id")[
            :limit
        ]
    )


def campaign_get(*, account_id: int, campaign_id: int) -> Campaign:
    """A campaign of this account (``Campaign.DoesNotExist`` for anyone else's)."""
    return Campaign.objects.get(account_id=account_id, pk=campaign_id)


def messages_list(*, account_id: int, campaign_id: int | None = None):
    qs = Message.objects.filter(account_id=account_id)
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    return qs.order_by("-id")


def phones_undelivered(*, account_id: int, phones: QuerySet, last_n: int) -> list[str]:
    """The phones among ``phones`` (a ``values("phone")`` queryset) whose last
    ``last_n`` messages of this account were all not delivered.  The
    phonebook's cleanup asks this through ``contacts.history`` (registered in
    ``MessagingConfig.ready()``)."""
    ranked = (
        Message.objects.filter(account_id=account_id, phone__in=phones)
        .annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("phone")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .values_list("phone", "status", "rn")
    )
    stats: dict[str, list[int]] = {}
    for phone, status, rn in ranked.iterator(chunk_size=5000):
        if rn > last_n:
            continue
        seen = stats.setdefault(phone, [0, 0])
        seen[0] += 1
        if status in NOT_DELIVERED:
            seen[1] += 1
    return [
        p for p, (total, failed) in stats.items() if total >= last_n and failed == total
    ]


def messages_waiting(*, channel: str) -> int:
    """Messages of the channel whose send time came and that wait for the
    carrier (queued or deferred): what a carrier link that is down holds up
    (read from the claims' partial index)."""
    return Message.objects.filter(
        channel=channel,
        status__in=["queued", "deferred"],
        send_at__lte=timezone.now(),
    ).count()
