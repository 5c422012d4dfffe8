from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Партнерство")

    def ready(self):
        from cabinet import moderation

        from . import receivers  # noqa: F401  (rewards from the ledger, sign-ups)
        from .models import Withdrawal

        # Staff decide manual withdrawals; moves to the balance are done at once.
        moderation.register_queue(
            model=Withdrawal,
            label=_("Заявки на вывод вознаграждений"),
            pending=lambda: Withdrawal.objects.filter(
                status=moderation.Decision.PENDING, method=Withdrawal.Method.MANUAL
            ),
        )
