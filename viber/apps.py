from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ViberConfig(AppConfig):
    name = "viber"
    verbose_name = _("Рассылка Viber")

    def ready(self):
        # The channel itself registers from channels.py (messaging autodiscovers
        # it); here the app subscribes to the core's signals.
        from . import receivers  # noqa: F401
