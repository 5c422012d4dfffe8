from django.contrib import admin

from cabinet.moderation_admin import DecisionAdmin

from .models import Partner, Referral, Reward, RewardRate, Withdrawal


@admin.register(RewardRate)
class RewardRateAdmin(admin.ModelAdmin):
    """The manual's table; staff change a percentage or a term (also in the
    staff console, /staff/rates/, which writes the audit log)."""

    list_display = ("label", "service", "percent", "days", "position")
    list_editable = ("percent", "days")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Withdrawal)
class WithdrawalAdmin(DecisionAdmin):
    list_display = ("id", "account", "amount", "method", "status", "created_at")
    list_filter = ("status", "method")
    search_fields = ("account__name", "details")
    readonly_fields = ("account", "amount", "method", "details", "requested_by")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("account", "code", "created_at")
    search_fields = ("account__name", "code")
    raw_id_fields = ("account",)


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """View and delete only: a referral is made at sign-up through the
    partner's link (``partners.services.referral_of`` relies on it)."""

    list_display = ("client", "partner", "created_at")
    search_fields = ("client__name", "partner__name")
    raw_id_fields = ("client", "partner")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ("created_at", "partner", "client", "service", "base", "amount")
    list_filter = ("service",)
    raw_id_fields = ("partner", "client", "entry")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
