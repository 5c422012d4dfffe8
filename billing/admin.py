from django.contrib import admin

from .models import LedgerEntry, Tariff


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "amount", "kind", "reason", "balance_after")
    list_filter = ("kind",)
    search_fields = ("account__name", "reason", "reference")

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
