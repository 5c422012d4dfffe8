"""Thin Celery wrappers for webhook delivery (ids in, services do the work)."""

from celery import shared_task


@shared_task(ignore_result=True)
def webhooks_deliver_due() -> int:
    """Periodic (beat) and on demand: one delivery task per endpoint with due
    events, so a slow endpoint holds up only its own deliveries."""
    from .services import due_endpoints

    endpoints = due_endpoints()
    for endpoint_id in endpoints:
        webhook_deliver.delay(endpoint_id)
    return len(endpoints)


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliver(endpoint_id: int) -> int:
    from .services import webhook_deliver as deliver

    return deliver(endpoint_id=endpoint_id)


@shared_task(ignore_result=True)
def webhooks_purge() -> int:
    """Daily (beat): keep the outbox and the delivery log to 30 days."""
    from .services import webhook_history_purge

    return webhook_history_purge(days=30)


@shared_task(ignore_result=True)
def ivr_request(account_id: int, url: str, payload: dict) -> bool:
    """A voice menu's «request a URL» (``voice.signals.ivr_url_requested``)."""
    from .services import ivr_request_post

    return ivr_request_post(account_id=account_id, url=url, payload=payload).ok
