"""Thin Celery wrappers: take ids, call a service."""

from celery import shared_task


@shared_task(ignore_result=True)
def promo_reminders() -> int:
    """Periodic (beat): enqueue every action whose next reminder round is due."""
    from .services import reminders_due

    due = reminders_due()
    for action_id in due:
        promo_reminder_round.delay(action_id)
    return len(due)


@shared_task(acks_late=True, ignore_result=True)
def promo_reminder_round(action_id: int) -> int:
    from .services import reminder_round_send

    return reminder_round_send(action_id=action_id)
