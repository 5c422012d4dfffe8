"""Partners listen to the apps below: the ledger (every charge and refund of
a referred client, whichever path wrote it) and the sign-up."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from billing.signals import ledger_posted
from cabinet.signals import account_created

from . import services
from .models import Referral


@receiver(ledger_posted, dispatch_uid="partners.reward")
def _reward(sender, entry, **kwargs):
    services.reward_for_entry(entry)


@receiver(account_created, dispatch_uid="partners.attribution")
def _attribute(sender, account, request=None, **kwargs):
    referral = None
    if request is not None:
        code = services.code_from_cookie(request.COOKIES.get(services.COOKIE))
        referral = services.attribute(client=account, code=code)
    services.remember_referral(
        account_id=account.pk, partner_id=referral.partner_id if referral else None
    )
    return None


@receiver(post_save, sender=Referral, dispatch_uid="partners.referral_saved")
@receiver(post_delete, sender=Referral, dispatch_uid="partners.referral_deleted")
def _referral_changed(sender, instance, **kwargs):
    services.forget_referral(account_id=instance.client_id)
