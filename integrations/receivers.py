"""Signal receivers: status changes of messages → the webhook outbox."""

from django.dispatch import receiver

from messaging.signals import statuses_changed


@receiver(statuses_changed, dispatch_uid="integrations.webhook_outbox")
def status_changes_to_outbox(sender, channel=None, changes=None, **kwargs):
    # One INSERT … SELECT (rows only for accounts with an active webhook);
    # delivery happens in a Celery task, so sending never waits for a client.
    from .services import webhook_events_from_changes

    webhook_events_from_changes(list(changes or []))
