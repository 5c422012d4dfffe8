from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromoConfig(AppConfig):
    name = "promo"
    verbose_name = _("Промо-акции")

    def ready(self):
        from messaging import substitutions

        from .substitutions import COUPON_CODE

        # [couponCode] in a campaign's text is ours to fill.
        substitutions.register(COUPON_CODE)
