"""Thin Celery wrappers: take ids, call a service."""

from celery import shared_task

from .gateways.base import Receipt


@shared_task(acks_late=True, ignore_result=True)
def prepare_campaign(campaign_id: int) -> None:
    from .prepare import campaign_prepare

    campaign_prepare(campaign_id=campaign_id)


@shared_task(acks_late=True, ignore_result=True)
def dispatch_channel(channel: str) -> int:
    from .dispatch import dispatch_channel as run

    return run(channel=channel)


@shared_task(ignore_result=True)
def dispatch_all() -> None:
    """Periodic (beat): dispatch every channel; also resumes preparations a dead
    worker left half-done."""
    from . import registry
    from .models import Campaign

    stalled = Campaign.objects.filter(
        status__in=[Campaign.Status.PREPARING], options__settled__isnull=True
    ).values_list("id", flat=True)[:100]
    for campaign_id in stalled:
        prepare_campaign.delay(campaign_id)
    for kind in registry.all_channels():
        dispatch_channel.delay(kind.code)


@shared_task(acks_late=True, ignore_result=True)
def apply_fake_receipts(channel: str, payload: list[list]) -> int:
    from .statuses import receipts_apply

    receipts = [
        Receipt(status, message_id=mid, reason=reason)
        for mid, status, reason in payload
    ]
    return receipts_apply(channel=channel, receipts=receipts)
