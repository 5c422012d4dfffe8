"""Thin Celery wrappers: the sweeper of scenario hops (beat runs it every
``SCENARIO_SWEEP_INTERVAL`` seconds; a final failure nudges it at once)."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def sweep() -> int:
    from .engine import sweep as run

    return run()
