from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Online-чат")

    def ready(self):
        # The full version is a service of its own in the billing documents.
        from billing import catalog

        from . import receivers  # noqa: F401  (replies_received from the channels)

        catalog.register_service("chat", _("Online-чат"))
