"""Viber listens to the core: a name staff approved goes to work (its first
package is charged), and recipients who unsubscribed stop getting that
sender's Viber messages."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from messaging.models import MessageStatus, SenderName
from messaging.signals import statuses_changed

from . import services
from .tasks import record_unsubscribes


@receiver(post_save, sender=SenderName, dispatch_uid="viber.name_approved")
def name_approved(sender, instance: SenderName, update_fields=None, **kwargs):
    if instance.channel != services.CHANNEL:
        return
    if instance.status != SenderName.Status.APPROVED:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    services.name_approved(sender_name=instance)


@receiver(statuses_changed, dispatch_uid="viber.unsubscribes")
def unsubscribed(sender, channel: str, changes, **kwargs):
    if channel != services.CHANNEL:
        return
    ids = [mid for mid, _cid, _old, new in changes if new == MessageStatus.UNSUBSCRIBED]
    if ids:
        record_unsubscribes.delay(ids)
