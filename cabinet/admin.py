from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from billing.services import DuplicateEntry, InsufficientFunds, ledger_post

from .models import (
    Account,
    ApiToken,
    LoginCode,
    LoginEvent,
    Notification,
    Ticket,
    TicketMessage,
    User,
)
from .support import ticket_staff_reply


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


class UserInline(admin.TabularInline):
    model = User
    fields = ("email", "full_name", "role", "is_active")
    readonly_fields = ("email",)
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "balance",
        "tariff_tier",
        "is_trusted",
        "is_blocked",
        "created_at",
    )
    list_filter = ("is_blocked", "is_trusted", "tariff_tier")
    list_editable = ("tariff_tier",)
    search_fields = ("name", "users__email")
    readonly_fields = ("balance", "ledger_total", "effective_tier", "recent_ledger")
    inlines = [UserInline]
    change_form_template = "admin/cabinet/account/change_form.html"
    actions = ["block_accounts", "unblock_accounts"]

    @admin.action(
        description=_("Заблокировать (вход, отправка и API-токены)"),
        permissions=["change"],
    )
    def block_accounts(self, request, queryset):
        n = queryset.filter(is_blocked=False).update(
            is_blocked=True,
            blocked_reason=_("Заблокирован сотрудником %(s)s")
            % {"s": request.user.email},
        )
        self.message_user(request, _("Заблокировано аккаунтов: %(n)d.") % {"n": n})

    @admin.action(description=_("Разблокировать"), permissions=["change"])
    def unblock_accounts(self, request, queryset):
        n = queryset.filter(is_blocked=True).update(is_blocked=False, blocked_reason="")
        self.message_user(request, _("Разблокировано аккаунтов: %(n)d.") % {"n": n})

    @admin.display(description=_("Сумма по журналу"))
    def ledger_total(self, obj):
        return obj.ledger_entries.aggregate(s=Sum("amount"))["s"] or Decimal("0")

    @admin.display(description=_("Действующая ступень тарифа"))
    def effective_tier(self, obj):
        from billing.selectors import account_tier

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


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "account", "role", "is_staff", "is_active")
    search_fields = ("email", "full_name")
    list_filter = ("is_staff", "is_active", "role")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Профиль"), {"fields": ("full_name", "phone", "account", "role")}),
        (
            _("Права"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "account", "role", "password1", "password2"),
            },
        ),
    )
    raw_id_fields = ("account",)


@admin.register(LoginEvent)
class LoginEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "ip", "user_agent")
    search_fields = ("user__email", "ip")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "account",
        "scopes",
        "description",
        "created_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "key_hash")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "kind", "title", "read_at")


@admin.register(LoginCode)
class LoginCodeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "expires_at", "attempts", "used_at", "ip")
    readonly_fields = (
        "user",
        "code_hash",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
        "ip",
    )

    def has_add_permission(self, request):
        return False


class TicketMessageInline(admin.TabularInline):
    model = TicketMessage
    fields = ("created_at", "author", "is_staff_reply", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class TicketAdminForm(forms.ModelForm):
    reply = forms.CharField(
        label=_("Ответ клиенту"),
        required=False,
        widget=forms.Textarea,
        help_text=_("Уйдёт в переписку, в уведомления и копией на email."),
    )

    class Meta:
        model = Ticket
        fields = ["status"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Support queue: staff read the thread and answer from here."""

    form = TicketAdminForm
    list_display = ("id", "subject", "account", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("subject", "account__name", "messages__body")
    readonly_fields = ("account", "subject", "created_by", "created_at")
    fields = ("account", "subject", "created_by", "created_at", "status", "reply")
    inlines = [TicketMessageInline]
    list_select_related = ("account",)

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        reply = form.cleaned_data.get("reply", "").strip()
        if reply:
            ticket_staff_reply(ticket=obj, staff=request.user, body=reply)
