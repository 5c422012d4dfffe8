"""Thin Celery wrappers: take ids, call a service."""

from celery import shared_task

from .gateways.base import Receipt


@shared_task(acks_late=True, ignore_result=True)
def dispatch_channel(channel: str) -> int:
    from .services import dispatch_channel as run

    return run(channel=channel)


@shared_task(ignore_result=True)
def dispatch_all() -> None:
    """Periodic (beat): dispatch every channel with due messages."""
    from . import registry

    for kind in registry.all_channels():
        dispatch_channel.delay(kind.code)


@shared_task(acks_late=True, ignore_result=True)
def apply_fake_receipts(channel: str, payload: list[list]) -> int:
    from .services import receipts_apply

    receipts = [Receipt(status, message_id=mid, reason=reason) for mid, status, reason in payload]
    return receipts_apply(channel=channel, receipts=receipts)
