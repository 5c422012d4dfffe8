"""Thin Celery wrappers: take ids or payloads, call a service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def viber_callbacks(events: list[dict]) -> int:
    """The fake carrier's callbacks, delivered later like Viber's webhooks."""
    return services.callbacks_apply(events=events)


@shared_task(acks_late=True, ignore_result=True)
def record_unsubscribes(message_ids: list[int]) -> int:
    return services.unsubscribes_record(message_ids=message_ids)
