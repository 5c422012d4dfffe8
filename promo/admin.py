from django.contrib import admin

from .models import PromoAction, PromoCode, PromoManager


@admin.register(PromoAction)
class PromoActionAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "account",
        "code_length",
        "valid_days",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active", "reminders_enabled")
    search_fields = ("name", "account__name")
    raw_id_fields = ("account",)


@admin.register(PromoManager)
class PromoManagerAdmin(admin.ModelAdmin):
    list_display = ("name", "login", "account", "is_active", "last_login_at")
    search_fields = ("name", "login", "account__name")
    raw_id_fields = ("account",)
    exclude = ("password",)  # hashed; set from the cabinet's managers page


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "action", "phone", "issued_at", "used_at", "used_by_name")
    search_fields = ("code", "phone")
    raw_id_fields = ("account", "action", "campaign", "message", "used_by")
    readonly_fields = ("code", "issued_at")
    show_full_result_count = False
