from django.contrib import admin

from .models import (
    Contact,
    CustomField,
    Group,
    ImportJob,
    NumberingPlanRange,
    StopNumber,
    Unsubscribe,
)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "size", "is_hidden", "is_stoplist", "deleted_at")
    list_filter = ("is_stoplist", "is_hidden")
    search_fields = ("name", "account__name")
    raw_id_fields = ("account",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("phone", "last_name", "first_name", "group", "operator", "region")
    search_fields = ("=phone",)
    raw_id_fields = ("account", "group")
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "filename",
        "account",
        "group",
        "status",
        "total",
        "created",
        "invalid",
        "created_at",
    )
    list_filter = ("status",)
    raw_id_fields = ("account", "group", "created_by")


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "kind", "account")
    raw_id_fields = ("account",)


@admin.register(StopNumber)
class StopNumberAdmin(admin.ModelAdmin):
    list_display = ("phone", "account", "comment", "created_at")
    search_fields = ("=phone",)
    raw_id_fields = ("account",)


@admin.register(Unsubscribe)
class UnsubscribeAdmin(admin.ModelAdmin):
    list_display = ("phone", "channel", "sender", "account", "created_at")
    search_fields = ("=phone",)
    raw_id_fields = ("account",)


@admin.register(NumberingPlanRange)
class NumberingPlanRangeAdmin(admin.ModelAdmin):
    list_display = ("prefix", "start", "end", "operator", "region")
    list_filter = ("prefix",)
    search_fields = ("operator", "region")
