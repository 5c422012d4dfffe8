"""Reads of the VK/OK and messenger pages, every one scoped to the account."""

from datetime import datetime

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from messaging.models import Message, SenderName
from messaging.models import MessageStatus as S

from .models import MessengerBinding, NameRequest

CHANNELS = ("vk", "ok")
# Messages that never went to the network do not count against the limit.
NOT_SENT = (S.CANCELLED, S.FAILED)


def daily_limit() -> int:
    return int(getattr(settings, "SOCIAL_DAILY_LIMIT", 3))


def day_start(now: datetime | None = None) -> datetime:
    """Midnight of today in the service's time zone (the networks' day)."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def daily_limit_reached(
    *, account_id: int, channel: str, sender: str, phones: list[str] | None
) -> set[str]:
    """The numbers that got ``SOCIAL_DAILY_LIMIT`` messages from this group
    today (``ChannelKind.refused``): one index range of the account's
    messages of today."""
    if not sender:
        return set()
    qs = Message.objects.filter(
        account_id=account_id,
        created_at__gte=day_start(),
        channel=channel,
        sender=sender,
    ).exclude(status__in=NOT_SENT)
    if phones is not None:
        if not phones:
            return set()
        qs = qs.filter(phone__in=list(phones))
    return set(
        qs.values("phone")
        .annotate(n=Count("id"))
        .filter(n__gte=daily_limit())
        .values_list("phone", flat=True)
    )


def name_requests(*, account_id: int):
    return NameRequest.objects.filter(account_id=account_id).order_by(
        "-created_at", "-id"
    )


def name_request_get(*, account_id: int, pk: int) -> NameRequest:
    """``NameRequest.DoesNotExist`` for another account's id."""
    return NameRequest.objects.get(account_id=account_id, pk=pk)


def approved_groups(*, account_id: int) -> dict[str, list[str]]:
    """channel → the account's approved group names."""
    out: dict[str, list[str]] = {c: [] for c in CHANNELS}
    rows = SenderName.objects.filter(
        account_id=account_id,
        channel__in=CHANNELS,
        status=SenderName.Status.APPROVED,
    ).order_by("name")
    for channel, name in rows.values_list("channel", "name"):
        out[channel].append(name)
    return out


def has_approved_name(*, account_id: int) -> bool:
    return SenderName.objects.filter(
        account_id=account_id,
        channel__in=CHANNELS,
        status=SenderName.Status.APPROVED,
    ).exists()


def pending_request(*, account_id: int) -> NameRequest | None:
    return (
        NameRequest.objects.filter(account_id=account_id, status="pending")
        .order_by("-created_at")
        .first()
    )


def bindings(*, account_id: int):
    return MessengerBinding.objects.filter(account_id=account_id)


def binding_get(*, account_id: int, pk: int) -> MessengerBinding:
    return MessengerBinding.objects.get(account_id=account_id, pk=pk)


def bindings_for(*, account_id: int, kind: str) -> list[MessengerBinding]:
    """The account's chats that get notifications of ``kind``."""
    return [
        b
        for b in MessengerBinding.objects.filter(account_id=account_id)
        if kind in (b.kinds or [])
    ]
