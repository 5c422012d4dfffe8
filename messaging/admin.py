from django.contrib import admin

from .models import Campaign, GatewaySubmission, Message


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "channel", "source", "status", "sender", "recipients",
                    "cost", "created_at")
    list_filter = ("channel", "status", "source")
    search_fields = ("text", "description")
    raw_id_fields = ("account", "created_by")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign_id", "phone", "status", "parts", "price", "created_at")
    list_filter = ("channel", "status")
    search_fields = ("phone",)
    raw_id_fields = ("account", "campaign")


@admin.register(GatewaySubmission)
class GatewaySubmissionAdmin(admin.ModelAdmin):
    list_display = ("submitted_at", "channel", "message_id", "phone", "duplicate")
