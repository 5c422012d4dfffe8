"""Thin Celery wrappers: take ids, call a service."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

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

    silent = timezone.now() - timedelta(seconds=60)
    stalled = (
        Campaign.objects.filter(
            status__in=[Campaign.Status.PREPARING, Campaign.Status.MODERATION],
            options__settled__isnull=True,
        )
        .filter(
            Q(heartbeat_at__lt=silent)
            | Q(heartbeat_at__isnull=True, created_at__lt=silent)
        )
        .values_list("id", flat=True)[:100]
    )
    for campaign_id in stalled:
        prepare_campaign.delay(campaign_id)
    for kind in registry.all_channels():
        dispatch_channel.delay(kind.code)


@shared_task(ignore_result=True)
def sweep_unconfirmed() -> int:
    """Periodic (beat): messages whose carrier report never came are made final
    and refunded (``messaging.statuses.sweep_unconfirmed``)."""
    from . import registry
    from .statuses import sweep_unconfirmed as sweep

    return sum(sweep(channel=kind.code) for kind in registry.all_channels())


@shared_task(ignore_result=True)
def purge_handovers() -> int:
    """Periodic (beat, daily): settled hand-overs older than a week go
    (``messaging.handovers.purge``)."""
    from .handovers import purge

    return purge()


@shared_task(acks_late=True, ignore_result=True)
def apply_fake_receipts(channel: str, payload: list[list]) -> int:
    from .statuses import receipts_apply

    receipts = [
        Receipt(status, message_id=mid, reason=reason)
        for mid, status, reason in payload
    ]
    return receipts_apply(channel=channel, receipts=receipts)
