"""Staff side of messaging: campaigns and messages, and the moderation console
(Z1) — sender-name requests, campaigns waiting for moderation and moderation
templates share one admin behaviour (``cabinet.moderation_admin``) and decide
through ``cabinet.moderation.decide``, which notifies the client;
SMS-advertising applications are worked on here too."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_field
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cabinet.moderation_admin import DECISION_READONLY, DecisionAdmin

from . import moderation
from .compose import advertising_answer
from .models import (
    AdvertisingRequest,
    Campaign,
    CampaignLink,
    CampaignModeration,
    GatewaySubmission,
    Greeting,
    Message,
    MessageTemplate,
    ModerationTemplate,
    Schedule,
    SenderName,
)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "account",
        "channel",
        "source",
        "status",
        "sender",
        "recipients",
        "cost",
        "created_at",
    )
    list_filter = ("channel", "status", "source")
    search_fields = ("text", "description")
    raw_id_fields = ("account", "created_by")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "campaign_id",
        "phone",
        "status",
        "parts",
        "price",
        "created_at",
    )
    list_filter = ("channel", "status")
    search_fields = ("phone",)
    raw_id_fields = ("account", "campaign")


@admin.register(GatewaySubmission)
class GatewaySubmissionAdmin(admin.ModelAdmin):
    list_display = ("submitted_at", "channel", "message_id", "phone", "duplicate")


# --- the moderation console: one admin behaviour (cabinet.moderation_admin) ---------


@admin.register(SenderName)
class SenderNameAdmin(DecisionAdmin):
    list_display = (
        "name",
        "account",
        "channel",
        "status",
        "reason",
        "created_at",
        "decided_at",
    )
    list_filter = ("status", "channel")
    search_fields = ("name", "account__name")
    readonly_fields = ("account", "channel", "name")


def _campaign_field(name, label=None):
    """A campaign's field shown on its decision's admin page."""
    field = Campaign._meta.get_field(name)

    @admin.display(description=label or field.verbose_name)
    def show(self, obj):
        return display_for_field(getattr(obj.campaign, name), field, "-")

    return show


@admin.register(CampaignModeration)
class CampaignModerationAdmin(DecisionAdmin):
    list_display = (
        "__str__",
        "account",
        "sender",
        "short_text",
        "recipients",
        "cost",
        "why",
        "campaign_status",
        "status",
        "created_at",
    )
    list_select_related = ("campaign", "account")
    search_fields = ("campaign__text", "account__name")
    readonly_fields = (
        "campaign_link",
        "account",
        "channel",
        "source",
        "sender",
        "text",
        "audience",
        "recipients",
        "cost",
        "send_at",
        "campaign_status",
        "why",
    )
    fields = readonly_fields + DECISION_READONLY

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Рассылка"))
    def campaign_link(self, obj):
        url = reverse("admin:messaging_campaign_change", args=[obj.campaign_id])
        return format_html('<a href="{}">#{}</a>', url, obj.campaign_id)

    @admin.display(description=_("Статус рассылки"))
    def campaign_status(self, obj):
        return obj.campaign.get_status_display()

    @admin.display(description=_("Текст"))
    def short_text(self, obj):
        return obj.campaign.text[:120]

    @admin.display(description=_("Почему на модерации"))
    def why(self, obj):
        return moderation.moderation_reason(
            account=obj.account, channel=obj.campaign.channel, text=obj.campaign.text
        )

    channel = _campaign_field("channel")
    source = _campaign_field("source")
    sender = _campaign_field("sender")
    text = _campaign_field("text")
    audience = _campaign_field("audience", _("аудитория"))
    recipients = _campaign_field("recipients")
    cost = _campaign_field("cost")
    send_at = _campaign_field("send_at")


@admin.register(ModerationTemplate)
class ModerationTemplateAdmin(DecisionAdmin):
    list_display = (
        "short_text",
        "account",
        "channel",
        "status",
        "created_at",
        "decided_at",
    )
    list_filter = ("status", "channel")
    search_fields = ("text", "account__name")
    readonly_fields = ("account", "channel", "text")

    @admin.display(description=_("Текст смс"))
    def short_text(self, obj):
        return obj.text[:120]


@admin.register(AdvertisingRequest)
class AdvertisingRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "cities", "volume", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("cities", "text", "account__name")
    readonly_fields = (
        "account",
        "text",
        "targeting",
        "cities",
        "volume",
        "sender",
        "contact",
        "created_at",
        "created_by",
    )
    fields = readonly_fields + ("status", "staff_comment")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # The same answer as the staff console's: saved and the client notified.
        advertising_answer(
            request_id=obj.pk,
            status=obj.status,
            comment=obj.staff_comment,
            staff_user=request.user,
        )


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "channel", "updated_at")
    search_fields = ("name", "text")
    raw_id_fields = ("account",)


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "account",
        "name",
        "is_active",
        "next_run_at",
        "last_run_at",
        "runs",
    )
    list_filter = ("is_active",)
    raw_id_fields = ("account", "created_by")


@admin.register(Greeting)
class GreetingAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "account",
        "occasion",
        "date_field",
        "send_time",
        "is_active",
        "next_run_at",
        "runs",
    )
    list_filter = ("is_active",)
    raw_id_fields = ("account", "created_by")


@admin.register(CampaignLink)
class CampaignLinkAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "kind", "url", "clicks")
    raw_id_fields = ("campaign",)
