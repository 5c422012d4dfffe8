"""Staff side of Viber.  Own names are approved in the moderation console
(messaging's «Имена отправителя» with channel Viber); approving one charges
its first package (viber.receivers).  Packages, images and replies are here
to look at."""

from django.contrib import admin

from .models import Reply, SenderPackage, ViberImage


@admin.register(SenderPackage)
class SenderPackageAdmin(admin.ModelAdmin):
    list_display = (
        "sender_name",
        "account",
        "status",
        "start",
        "starts_on",
        "ends_on",
        "price",
        "paid_at",
    )
    list_filter = ("status", "start")
    search_fields = ("sender_name__name",)
    raw_id_fields = ("account", "sender_name")
    readonly_fields = ("price", "paid_at", "starts_on", "ends_on", "status")


@admin.register(ViberImage)
class ViberImageAdmin(admin.ModelAdmin):
    list_display = ("public_id", "account", "original_name", "width", "height", "size")
    search_fields = ("public_id", "original_name")
    raw_id_fields = ("account",)
    readonly_fields = (
        "public_id",
        "file",
        "thumbnail",
        "content_type",
        "width",
        "height",
        "size",
    )


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ("received_at", "account", "phone", "sender", "text")
    search_fields = ("phone", "text")
    raw_id_fields = ("account", "campaign", "message")
