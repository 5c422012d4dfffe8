"""Viber listens to the core: a name staff approved goes to work (its first
package is charged), and recipients who unsubscribed stop getting that
sender's Viber messages."""

from django.dispatch import receiver

from cabinet.moderation import decided
from messaging.models import MessageStatus, SenderName
from messaging.signals import statuses_changed

from . import services
from .tasks import record_unsubscribes


@receiver(decided, sender=SenderName, dispatch_uid="viber.name_approved")
def name_approved(sender, item: SenderName, approved: bool, **kwargs):
    """Staff approved an own Viber name (the moderation console's decision,
    after it commits): its first package is charged now."""
    if approved and item.channel == services.CHANNEL:
        services.name_approved(sender_name=item)


@receiver(statuses_changed, dispatch_uid="viber.unsubscribes")
def unsubscribed(sender, channel: str, changes, **kwargs):
    if channel != services.CHANNEL:
        return
    ids = [mid for mid, _cid, _old, new in changes if new == MessageStatus.UNSUBSCRIBED]
    if ids:
        record_unsubscribes.delay(ids)
