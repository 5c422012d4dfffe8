"""Thin Celery wrappers: ids in, services do the work."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def events_process() -> int:
    """On demand (an event was recorded) and from the sweep: claim pending
    events and run their handlers.  Safe to run twice at once (SKIP LOCKED)."""
    return services.events_process()


@shared_task(ignore_result=True)
def events_sweep() -> int:
    """Beat: today's contact dates, finished campaigns, due webhook retries,
    then whatever is pending (a worker that died mid-batch left it there)."""
    from django.core.cache import cache

    services.dates_due()
    services.campaigns_finished()
    if cache.add("events:purge", 1, timeout=3600):  # hourly is plenty
        services.events_purge(days=30)
    for call_id in services.webhooks_due():
        events_webhook_deliver.delay(call_id)
    return services.events_process()


@shared_task(acks_late=True, ignore_result=True)
def events_webhook_deliver(call_id: int) -> bool | None:
    return services.webhook_call_deliver(call_id=call_id)
