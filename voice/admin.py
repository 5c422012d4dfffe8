from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cabinet.moderation_admin import DecisionAdmin

from .models import AudioFile, CallPassword, VoiceNumber


@admin.register(AudioFile)
class AudioFileAdmin(DecisionAdmin):
    """Staff listen to an audio (the player) and approve or reject it; the
    campaigns waiting for it follow the decision (voice.decisions)."""

    list_display = ("name", "account", "source", "duration_ms", "status", "created_at")
    list_filter = ("status", "source")
    search_fields = ("name", "text", "account__name")
    readonly_fields = (
        "account",
        "name",
        "source",
        "text",
        "voice",
        "duration_ms",
        "player",
    )
    exclude = ("path", "sha256", "size")

    @admin.display(description=_("Прослушать"))
    def player(self, obj):
        url = reverse("voice:audio_play", args=[obj.pk])
        return format_html('<audio controls preload="none" src="{}"></audio>', url)


@admin.register(VoiceNumber)
class VoiceNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "purpose", "is_active", "created_at")
    list_filter = ("purpose", "is_active")
    search_fields = ("number",)


@admin.register(CallPassword)
class CallPasswordAdmin(admin.ModelAdmin):
    list_display = ("phone", "code", "caller", "account", "client_id", "created_at")
    search_fields = ("phone", "client_id")
    readonly_fields = [f.name for f in CallPassword._meta.fields]

    def has_add_permission(self, request):
        return False
