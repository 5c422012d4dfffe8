from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = _("Голосовая рассылка")

    def ready(self):
        from . import receivers  # noqa: F401
        from .decisions import register_queues

        register_queues()
