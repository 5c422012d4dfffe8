import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cabinet.settings")

app = Celery("cabinet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_insecure_start(**kwargs):
    """A worker or beat never runs on development secrets (cabinet/deploy.py).
    Celery logs and ignores exceptions from signal handlers: exit instead."""
    import sys

    from django.core.exceptions import ImproperlyConfigured

    from cabinet.deploy import refuse_insecure_start

    try:
        refuse_insecure_start()
    except ImproperlyConfigured as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from None
