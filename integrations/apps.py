from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("API и интеграции")

    def ready(self):
        from . import receivers  # noqa: F401
