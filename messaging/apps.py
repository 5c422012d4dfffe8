from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Рассылки")

    def ready(self):
        from cabinet import dashboard, notifications
        from contacts import history

        from . import selectors
        from .dashboard import WIDGETS
        from .decisions import register_queues
        from .notifications import SmsTransport

        # Service texts of the cabinet (sign-in codes, payment SMS) go by SMS.
        notifications.register(SmsTransport())
        for widget in WIDGETS:
            dashboard.register(widget)
        # The phonebook's cleanup of undelivered numbers reads our messages.
        history.register(selectors.phones_undelivered)
        # Staff queues: sender names, campaigns, moderation templates, SMS-ad
        # applications (cabinet.moderation).
        register_queues()

        # Every app's channels.py registers its channel kinds (like admin.py).
        autodiscover_modules("channels")
