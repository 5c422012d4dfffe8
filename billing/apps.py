from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Финансы")

    def ready(self):
        from . import checks, receivers  # noqa: F401  (checks: production checks)
