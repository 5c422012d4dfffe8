from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Финансы")

    def ready(self):
        from django.urls import reverse

        from cabinet import moderation

        from . import checks, receivers  # noqa: F401  (checks: production checks)
        from .models import Invoice

        # Staff mark invoices paid (``services.invoice_mark_paid``): the staff
        # console's queue of unpaid invoices.
        moderation.register_queue(
            model=Invoice,
            label=_("Счета к оплате"),
            pending=lambda: Invoice.objects.filter(status=Invoice.Status.UNPAID),
            admin_url=lambda: (
                reverse("admin:billing_invoice_changelist") + "?status__exact=unpaid"
            ),
        )
