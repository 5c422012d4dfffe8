"""Partners listen to the apps below: the ledger (every charge and refund of
a referred client, whichever path wrote it) and the sign-up."""

from django.dispatch import receiver

from billing.signals import ledger_posted
from cabinet.signals import account_created

from . import services


@receiver(ledger_posted, dispatch_uid="partners.reward")
def _reward(sender, entry, **kwargs):
    services.reward_for_entry(entry)


@receiver(account_created, dispatch_uid="partners.attribution")
def _attribute(sender, account, request=None, **kwargs):
    if request is None:
        return None
    code = services.code_from_cookie(request.COOKIES.get(services.COOKIE))
    services.attribute(client=account, code=code)
    return None
