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

        from django.urls import reverse

        from . import moderation
        from .models import Ticket

        # Support tickets waiting for an answer (``support.ticket_staff_reply``):
        # a staff console queue.
        moderation.register_queue(
            model=Ticket,
            label=_("Обращения в техподдержку"),
            pending=lambda: Ticket.objects.filter(status=Ticket.Status.OPEN),
            admin_url=lambda: (
                reverse("admin:cabinet_ticket_changelist") + "?status__exact=open"
            ),
        )
