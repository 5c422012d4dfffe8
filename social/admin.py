"""Staff side of VK/OK: the name requests' moderation (one admin behaviour,
``cabinet.moderation_admin.DecisionAdmin``), with the letter to read; the
messenger bindings to look at."""

from django.contrib import admin
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cabinet.moderation_admin import DecisionAdmin

from .models import MessengerBinding, NameRequest
from .views import letter_response


@admin.register(NameRequest)
class NameRequestAdmin(DecisionAdmin):
    list_display = (
        "id",
        "account",
        "vk_group",
        "ok_group",
        "status",
        "reason",
        "created_at",
        "decided_at",
    )
    search_fields = ("vk_group", "ok_group", "account__name")
    readonly_fields = (
        "account",
        "vk_group",
        "ok_group",
        "letter_link",
        "letter_name",
        "letter_size",
    )
    exclude = ("letter", "letter_ext")

    @admin.display(description=_("подтверждающее письмо"))
    def letter_link(self, obj):
        if not obj.pk:
            return ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:social_namerequest_letter", args=[obj.pk]),
            obj.letter_name or _("скачать"),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/letter/",
                self.admin_site.admin_view(self.letter_view),
                name="social_namerequest_letter",
            ),
            *super().get_urls(),
        ]

    def letter_view(self, request, object_id):
        """The letter of a request, for the staff member deciding it."""
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return letter_response(obj)


@admin.register(MessengerBinding)
class MessengerBindingAdmin(admin.ModelAdmin):
    list_display = ("account", "messenger", "title", "created_at")
    list_filter = ("messenger",)
    raw_id_fields = ("account", "created_by")
    readonly_fields = ("chat_id",)
