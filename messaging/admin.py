"""Staff side of messaging: campaigns and messages, and the moderation console
(Z1) — sender-name requests, campaigns waiting for moderation, moderation
templates and SMS-advertising applications.  Every decision notifies the
client (through the services it calls)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from cabinet.models import Notification
from cabinet.services import notification_create

from . import moderation, senders
from .models import (
    AdvertisingRequest,
    Campaign,
    CampaignInModeration,
    CampaignLink,
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


# --- the moderation console --------------------------------------------------------


class RejectSenderForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Причина отказа"), choices=SenderName.Reason.choices
    )
    comment = forms.CharField(
        label=_("Комментарий для клиента"), max_length=300, required=False
    )


class RejectForm(forms.Form):
    comment = forms.CharField(label=_("Причина (увидит клиент)"), max_length=300)


def _intermediate(modeladmin, request, queryset, form, title, action):
    return render(
        request,
        "admin/messaging/decision.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": action,
            "opts": modeladmin.model._meta,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        },
    )


@admin.register(SenderName)
class SenderNameAdmin(admin.ModelAdmin):
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
    raw_id_fields = ("account",)
    readonly_fields = (
        "account",
        "channel",
        "name",
        "status",
        "reason",
        "comment",
        "created_at",
        "decided_at",
        "decided_by",
    )
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Одобрить выбранные запросы"))
    def approve(self, request, queryset):
        done = 0
        for row in queryset.filter(status=SenderName.Status.PENDING):
            senders.sender_decide(
                sender_name=row, approve=True, staff_user=request.user
            )
            done += 1
        self.message_user(
            request, _("Одобрено запросов: %(n)s") % {"n": done}, messages.SUCCESS
        )

    @admin.action(description=_("Отклонить выбранные запросы…"))
    def reject(self, request, queryset):
        form = RejectSenderForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for row in queryset.filter(status=SenderName.Status.PENDING):
                senders.sender_decide(
                    sender_name=row,
                    approve=False,
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                    staff_user=request.user,
                )
                done += 1
            self.message_user(
                request, _("Отклонено запросов: %(n)s") % {"n": done}, messages.SUCCESS
            )
            return None
        return _intermediate(
            self, request, queryset, form, _("Отклонить имена отправителя"), "reject"
        )


@admin.register(CampaignInModeration)
class CampaignInModerationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "account",
        "sender",
        "short_text",
        "recipients",
        "cost",
        "why",
        "created_at",
    )
    search_fields = ("text", "account__name")
    readonly_fields = (
        "account",
        "channel",
        "source",
        "sender",
        "text",
        "audience",
        "options",
        "tags",
        "description",
        "recipients",
        "cost",
        "created_at",
        "send_at",
    )
    fields = readonly_fields
    actions = ["approve", "reject"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(status=Campaign.Status.MODERATION)
            .select_related("account")
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Текст"))
    def short_text(self, obj):
        return obj.text[:120]

    @admin.display(description=_("Почему на модерации"))
    def why(self, obj):
        return moderation.moderation_reason(
            account=obj.account, channel=obj.channel, text=obj.text
        )

    @admin.action(description=_("Одобрить выбранные рассылки"))
    def approve(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for campaign in Campaign.objects.filter(pk__in=ids):
            moderation.campaign_decide(
                campaign=campaign, approve=True, staff_user=request.user
            )
        self.message_user(
            request, _("Одобрено рассылок: %(n)s") % {"n": len(ids)}, messages.SUCCESS
        )

    @admin.action(description=_("Отклонить выбранные рассылки…"))
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            ids = list(queryset.values_list("pk", flat=True))
            for campaign in Campaign.objects.filter(pk__in=ids):
                moderation.campaign_decide(
                    campaign=campaign,
                    approve=False,
                    reason=form.cleaned_data["comment"],
                    staff_user=request.user,
                )
            self.message_user(
                request,
                _("Отклонено рассылок: %(n)s") % {"n": len(ids)},
                messages.SUCCESS,
            )
            return None
        return _intermediate(
            self, request, queryset, form, _("Отклонить рассылки"), "reject"
        )


@admin.register(ModerationTemplate)
class ModerationTemplateAdmin(admin.ModelAdmin):
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
    readonly_fields = (
        "account",
        "channel",
        "text",
        "status",
        "comment",
        "created_at",
        "decided_at",
        "decided_by",
    )
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("Текст смс"))
    def short_text(self, obj):
        return obj.text[:120]

    @admin.action(description=_("Одобрить выбранные шаблоны"))
    def approve(self, request, queryset):
        done = 0
        for row in queryset.filter(status=ModerationTemplate.Status.PENDING):
            moderation.template_decide(
                template=row, approve=True, staff_user=request.user
            )
            done += 1
        self.message_user(
            request, _("Одобрено шаблонов: %(n)s") % {"n": done}, messages.SUCCESS
        )

    @admin.action(description=_("Отклонить выбранные шаблоны…"))
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for row in queryset.filter(status=ModerationTemplate.Status.PENDING):
                moderation.template_decide(
                    template=row,
                    approve=False,
                    comment=form.cleaned_data["comment"],
                    staff_user=request.user,
                )
                done += 1
            self.message_user(
                request, _("Отклонено шаблонов: %(n)s") % {"n": done}, messages.SUCCESS
            )
            return None
        return _intermediate(
            self, request, queryset, form, _("Отклонить шаблоны"), "reject"
        )


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
        super().save_model(request, obj, form, change)
        if change and (
            "status" in form.changed_data or "staff_comment" in form.changed_data
        ):
            notification_create(
                account_id=obj.account_id,
                title=_("Заявка на SMS-рекламу #%(id)s: %(s)s")
                % {"id": obj.pk, "s": obj.get_status_display()},
                body=obj.staff_comment,
                kind=Notification.Kind.INFO,
                url="/sms/advertising/",
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
