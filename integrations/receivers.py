"""Signal receivers: status changes of messages → the webhook outbox; a voice
menu's «request a URL» digit → a signed POST to the client."""

from django.db import transaction
from django.dispatch import receiver

from messaging.signals import statuses_changed
from voice.signals import ivr_url_requested


@receiver(statuses_changed, dispatch_uid="integrations.webhook_outbox")
def status_changes_to_outbox(sender, channel=None, changes=None, **kwargs):
    # One INSERT … SELECT (rows only for accounts with an active webhook);
    # delivery happens in a Celery task, so sending never waits for a client.
    from .services import webhook_events_from_changes

    webhook_events_from_changes(list(changes or []))


@receiver(ivr_url_requested, dispatch_uid="integrations.ivr_request")
def ivr_url_to_client(sender, account_id=None, url="", payload=None, **kwargs):
    # The call is over; the client's URL is called from a task, never inline.
    from .tasks import ivr_request

    transaction.on_commit(lambda: ivr_request.delay(account_id, url, payload or {}))
