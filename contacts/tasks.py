"""Thin Celery wrappers around contacts.services."""

import datetime as dt

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(acks_late=True)
def contacts_import(job_id: int) -> None:
    services.import_job_run(job_id=job_id)


@shared_task
def trash_purge() -> int:
    """Delete for good the groups in the trash past the retention period (C9)."""
    days = getattr(settings, "CONTACTS_TRASH_RETENTION_DAYS", 30)
    # Uploads and error reports older than the same period go too.
    services.import_jobs_purge(older_than=dt.timedelta(days=days))
    return services.groups_purge(older_than=dt.timedelta(days=days))
