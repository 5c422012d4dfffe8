from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Рассылки")

    def ready(self):
        from . import lookups  # noqa: F401  (registers field__any)
        from .moderation import register_queues

        # Staff queues: sender names, campaigns, moderation templates, SMS-ad
        # applications (cabinet.moderation).
        register_queues()

        # Every app's channels.py registers its channel kinds (like admin.py).
        autodiscover_modules("channels")
