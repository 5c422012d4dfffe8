from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cabinet.admin import AccountAdmin
from cabinet.models import Account

from .models import (
    AcquirerCallback,
    Invoice,
    LedgerEntry,
    Payment,
    Requisites,
    Tariff,
    TariffTier,
)
from .selectors import account_tier
from .services import (
    BillingError,
    DuplicateEntry,
    InsufficientFunds,
    invoice_mark_paid,
    ledger_post,
    payment_refund,
)


class CreditForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Сумма, ₽ (отрицательная — списание)"), max_digits=14, decimal_places=2
    )
    reason = forms.CharField(label=_("Причина"), max_length=300)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("Сумма не может быть нулевой."))
        return amount


# The cabinet registers the account admin without money in it; billing adds the
# ledger, the effective tariff tier and the staff credit page to it here, so
# the lower app never imports the higher one.
admin.site.unregister(Account)


@admin.register(Account)
class AccountBillingAdmin(AccountAdmin):
    readonly_fields = (
        *AccountAdmin.readonly_fields,
        "ledger_total",
        "effective_tier",
        "recent_ledger",
    )
    change_form_template = "admin/cabinet/account/change_form.html"

    @admin.display(description=_("Сумма по журналу"))
    def ledger_total(self, obj):
        return obj.ledger_entries.aggregate(s=Sum("amount"))["s"] or Decimal("0")

    @admin.display(description=_("Действующая ступень тарифа"))
    def effective_tier(self, obj):
        how = _("назначена вручную") if obj.tariff_tier is not None else _("по балансу")
        return f"{account_tier(obj)} ({how})"

    @admin.display(description=_("Последние операции"))
    def recent_ledger(self, obj):
        rows = obj.ledger_entries.order_by("-created_at", "-id")[:15]
        cells = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(e.created_at).strftime("%d.%m.%Y %H:%M"),
                    e.amount,
                    e.get_kind_display(),
                    e.reason,
                )
                for e in rows
            ),
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("Дата"),
            _("Сумма"),
            _("Тип"),
            _("Описание"),
            cells,
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/credit/",
                self.admin_site.admin_view(self.credit_view),
                name="cabinet_account_credit",
            ),
        ] + super().get_urls()

    def credit_view(self, request, pk):
        """Staff credit (or debit) an account with a reason: one ledger entry."""
        if not request.user.has_perm("billing.add_ledgerentry"):
            messages.error(request, _("Недостаточно прав."))
            return redirect("admin:cabinet_account_change", pk)
        account = Account.objects.get(pk=pk)
        form = CreditForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                ledger_post(
                    account_id=account.pk,
                    amount=form.cleaned_data["amount"],
                    kind="adjustment" if form.cleaned_data["amount"] < 0 else "topup",
                    reason=form.cleaned_data["reason"],
                    created_by=request.user,
                )
            except (InsufficientFunds, DuplicateEntry) as exc:
                form.add_error("amount", str(exc))
            else:
                messages.success(request, _("Баланс изменён."))
                return redirect(reverse("admin:cabinet_account_change", args=[pk]))
        return render(
            request,
            "admin/cabinet/account/credit.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "account": account,
                "title": _("Пополнение / списание"),
                "opts": self.model._meta,
            },
        )


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
    list_display = (
        "channel",
        "variant",
        "country",
        "operator",
        "tier",
        "first_units",
        "first_price",
        "price",
    )
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
