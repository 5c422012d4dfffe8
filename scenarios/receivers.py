"""The scenario engine listens to the core's status changes (it is above the
core: the core never imports it)."""

from django.dispatch import receiver

from messaging.signals import statuses_changed


@receiver(statuses_changed, dispatch_uid="scenarios.statuses")
def statuses_to_hops(sender, channel=None, changes=None, **kwargs):
    from .engine import statuses_apply
    from .tasks import sweep

    if statuses_apply(channel or "", list(changes or [])):
        sweep.delay()
