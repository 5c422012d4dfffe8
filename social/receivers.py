"""VK/OK listen to the core: recipients who unsubscribed from a group stop
getting its messages on that network."""

from django.dispatch import receiver

from messaging.models import MessageStatus
from messaging.signals import statuses_changed

from .tasks import record_unsubscribes

CHANNELS = ("vk", "ok")


@receiver(statuses_changed, dispatch_uid="social.unsubscribes")
def unsubscribed(sender, channel: str, changes, **kwargs):
    if channel not in CHANNELS:
        return
    ids = [mid for mid, _cid, _old, new in changes if new == MessageStatus.UNSUBSCRIBED]
    if ids:
        record_unsubscribes.delay(channel, ids)
