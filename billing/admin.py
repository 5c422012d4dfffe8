from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import (
    AcquirerCallback,
    Invoice,
    LedgerEntry,
    Payment,
    Requisites,
    Tariff,
    TariffTier,
)
from .services import BillingError, invoice_mark_paid, payment_refund


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "account",
        "amount",
        "kind",
        "service",
        "reason",
        "balance_after",
    )
    list_filter = ("kind", "service")
    search_fields = ("account__name", "reason", "reference")
    list_select_related = ("account",)

    def has_change_permission(self, request, obj=None):
        return False  # append-only: corrections are new entries

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False  # through the account's "credit" page, which keeps the balance


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("channel", "country", "operator", "tier", "price")
    list_filter = ("channel", "country", "tier")
    list_editable = ("price",)


@admin.register(TariffTier)
class TariffTierAdmin(admin.ModelAdmin):
    list_display = ("tier", "min_balance")


@admin.register(Requisites)
class RequisitesAdmin(admin.ModelAdmin):
    list_display = ("organisation", "inn", "kpp", "account", "updated_at")
    search_fields = ("organisation", "inn", "account__name")
    raw_id_fields = ("account",)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "created_at", "account", "amount", "status", "paid_at")
    list_filter = ("status",)
    search_fields = ("number", "account__name", "payer__inn")
    readonly_fields = (
        "account",
        "number",
        "amount",
        "payer",
        "created_by",
        "created_at",
        "status",
        "paid_at",
        "paid_by",
    )
    actions = ["mark_paid"]
    list_select_related = ("account",)

    def has_add_permission(self, request):
        return False

    @admin.action(
        description=_("Отметить оплаченными (зачислить на баланс)"),
        permissions=["change"],
    )
    def mark_paid(self, request, queryset):
        done = 0
        for invoice in queryset:
            try:
                done += invoice_mark_paid(
                    invoice_id=invoice.pk, staff_user=request.user
                )
            except BillingError as exc:
                self.message_user(request, f"{invoice.number}: {exc}", messages.ERROR)
        self.message_user(request, _("Оплачено счетов: %(n)d.") % {"n": done})


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "method",
        "amount",
        "status",
        "card_mask",
    )
    list_filter = ("status", "method")
    search_fields = ("account__name", "token", "acquirer_txn")
    readonly_fields = [f.name for f in Payment._meta.fields]
    actions = ["refund"]
    list_select_related = ("account",)

    def has_add_permission(self, request):
        return False

    @admin.action(
        description=_("Вернуть платёж через эквайера"), permissions=["change"]
    )
    def refund(self, request, queryset):
        for payment in queryset:
            try:
                payment_refund(payment=payment)
            except BillingError as exc:
                self.message_user(request, f"#{payment.pk}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request, _("Платёж #%(n)d возвращён.") % {"n": payment.pk}
                )


@admin.register(AcquirerCallback)
class AcquirerCallbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "payment", "signature_ok", "result")
    list_filter = ("signature_ok", "result")
    readonly_fields = ("payment", "body", "signature_ok", "result", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
