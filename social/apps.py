from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SocialConfig(AppConfig):
    name = "social"
    verbose_name = _("Рассылки ВК и ОК")

    def ready(self):
        # The channels themselves register from channels.py (messaging
        # autodiscovers it); here the app subscribes to the core's signals,
        # registers the staff queue of name requests and the messengers'
        # notification transport.
        from cabinet import notifications
        from cabinet.moderation import register_queue

        from . import receivers  # noqa: F401
        from .models import NameRequest
        from .services import name_request_apply
        from .transport import MessengerTransport

        register_queue(
            model=NameRequest,
            label=_("Имена отправителя ВК/ОК"),
            apply=name_request_apply,
        )
        notifications.register(MessengerTransport())
