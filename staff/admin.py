from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The staff audit log: read-only."""

    list_display = ("created_at", "staff", "action", "target", "object_id", "account")
    list_filter = ("action", "target")
    search_fields = ("staff__email", "account__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
