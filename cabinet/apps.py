from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CabinetConfig(AppConfig):
    name = "cabinet"
    verbose_name = _("Кабинет")

    def ready(self):
        from . import deploy, lookups, notifications, receivers  # noqa: F401

        # E-mail is the one delivery transport the cabinet brings itself; the
        # apps above register theirs (messaging: SMS) in their own ready().
        notifications.register(notifications.EmailTransport())
