from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

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
    # Billing adds the ledger, the tariff tier and the credit page to this
    # admin itself (billing/admin.py), so the cabinet knows nothing of money.
    readonly_fields = ("balance",)
    inlines = [UserInline]
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
