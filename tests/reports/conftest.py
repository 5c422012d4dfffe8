from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Campaign, Message


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are created per test; PBKDF2 would dominate these tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def launch():
    """Launch a real SMS campaign through the engine (fake gateway, instant
    receipts): numbers ending 0000 → not delivered, 1111 → failed, else
    delivered."""

    def make(
        user,
        phones=("+79161234567",),
        *,
        text="Скидка 20% до воскресенья",
        days_ago=0,
        sender="",
        **kwargs,
    ):
        campaign = services.campaign_launch(
            account=user.account,
            channel="sms",
            text=text,
            phones=list(phones),
            **kwargs,
        )
        if sender:  # as if the sender name had been approved
            Campaign.objects.filter(pk=campaign.pk).update(sender=sender)
            Message.objects.filter(campaign=campaign).update(sender=sender)
            campaign.refresh_from_db()
        campaign.refresh_from_db()  # refunds after dispatch change the cost
        if days_ago:
            at = timezone.now() - timedelta(days=days_ago)
            Campaign.objects.filter(pk=campaign.pk).update(created_at=at)
            Message.objects.filter(campaign=campaign).update(created_at=at)
            campaign.refresh_from_db()
        return campaign

    return make


def phones(n: int, start: int = 1000) -> list[str]:
    return [f"+7916{start + i:07d}" for i in range(n)]
