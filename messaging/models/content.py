"""Composing: sender names, message templates, moderation templates, schedules,
greetings, short links and SMS-advertising applications."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account
from cabinet.moderation import Decidable, Decision, Notice

from .. import registry
from .core import Campaign

__all__ = [
    "SenderName",
    "MessageTemplate",
    "ModerationTemplate",
    "CampaignLink",
    "Schedule",
    "Greeting",
    "AdvertisingRequest",
    "CampaignModeration",
]


def channel_page(channel: str, attr: str, default: str) -> str:
    """A channel's own page (``ChannelKind.<attr>``), SMS's when it names none."""
    try:
        name = getattr(registry.get_channel(channel), attr) or default
    except LookupError:
        name = default
    return reverse(name)


class SenderName(Decidable):
    """One request for a sender name (S7).  Approved rows are the account's
    names; all rows together are the request history.  A staff decision
    (``cabinet.moderation``) with the manual's rejection reasons."""

    class Reason(models.TextChoices):
        # The manual's reasons, section 2.3.
        NO_MEANING = (
            "no_meaning",
            _("Имя отправителя не несет содержательной информации для получателей"),
        )
        BRAND = (
            "brand",
            _(
                "Имя отправителя содержит аббревиатуры названий известных "
                "государственных учреждений, банков, операторов связи, компаний"
            ),
        )
        SERVICE_NUMBER = (
            "service_number",
            _("Имя отправителя содержит сервисные номера банков, крупных компаний"),
        )
        OFFENSIVE = (
            "offensive",
            _("Имя отправителя содержит выражения, оскорбляющие получателей"),
        )
        OTHER = "other", _("Другая причина (см. комментарий)")

    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="sender_names",
        verbose_name=_("аккаунт"),
    )
    channel = models.CharField(_("канал"), max_length=16, default="sms")
    name = models.CharField(_("имя отправителя"), max_length=64)
    reason = models.CharField(
        _("причина отказа"), max_length=32, blank=True, choices=Reason.choices
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("имя отправителя")
        verbose_name_plural = _("имена отправителя")
        indexes = [models.Index(fields=["account", "channel", "status"])]
        constraints = [
            # One live request or approval per name; a rejected name may be
            # requested again (a new history row).
            models.UniqueConstraint(
                fields=["account", "channel", "name"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="sendername_unique_live",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.get_status_display()})"

    def decision_notice(self) -> Notice:
        try:
            own = registry.get_channel(self.channel).sender_notice
        except LookupError:
            own = None
        if own is not None:  # the channel's words (voice: a caller number)
            return own(self)
        if self.status == Decision.APPROVED:
            title = _("Имя отправителя «%(name)s» одобрено") % {"name": self.name}
            body = _("Теперь его можно выбрать в поле «От:» формы отправки.")
        else:
            title = _("Имя отправителя «%(name)s» отклонено") % {"name": self.name}
            body = self.reason_display + (f". {self.comment}" if self.comment else "")
        return Notice(
            title=str(title),
            body=str(body),
            kind="sender",
            url=channel_page(
                self.channel, "sender_names_url", "messaging:sender_names"
            ),
        )


class MessageTemplate(models.Model):
    """A saved send form (S6): the text plus the form's other settings."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="message_templates"
    )
    channel = models.CharField(max_length=16, default="sms")
    name = models.CharField(_("название шаблона"), max_length=100)
    text = models.TextField(_("текст"), blank=True)
    # Everything else the form held (sender, options, tags…), as form data.
    form = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("шаблон сообщения")
        verbose_name_plural = _("шаблоны сообщений")
        indexes = [models.Index(fields=["account", "channel"])]

    def __str__(self):
        return self.name


class ModerationTemplate(Decidable):
    """A pre-approved text pattern (S8): a campaign whose text matches an
    approved template of its account skips moderation.  ``[любая фраза]`` marks
    the variable part.  A staff decision (``cabinet.moderation``); a rejection
    gives its reason as a text."""

    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="moderation_templates",
        verbose_name=_("аккаунт"),
    )
    channel = models.CharField(_("канал"), max_length=16, default="sms")
    text = models.TextField(_("текст смс"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("шаблон модерации")
        verbose_name_plural = _("шаблоны модерации")
        indexes = [models.Index(fields=["account", "channel", "status"])]

    def __str__(self):
        return self.text[:60]

    def decision_notice(self) -> Notice:
        verdict = _("одобрен") if self.status == Decision.APPROVED else _("отклонён")
        reason = self.reason_display if self.status == Decision.REJECTED else ""
        return Notice(
            title=str(_("Шаблон модерации %(v)s") % {"v": verdict}),
            body="\n".join(p for p in (self.text[:200], reason, self.comment) if p),
            url=channel_page(
                self.channel,
                "moderation_templates_url",
                "messaging:moderation_templates",
            ),
        )


class CampaignLink(models.Model):
    """One distinct URL of a campaign (S5).  Each message's short link is
    ``/s/<token>`` with the token encoding (link id, message id) and an HMAC,
    so there is no row per message."""

    class Kind(models.TextChoices):
        URL = "url", _("Ссылка")
        CHAT = "chat", _("Online-чат")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="links"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.URL)
    url = models.CharField(_("адрес"), max_length=2000)
    clicks = models.PositiveBigIntegerField(_("переходов"), default=0)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("ссылка рассылки")
        verbose_name_plural = _("ссылки рассылок")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "kind", "url"], name="campaignlink_unique"
            )
        ]

    def __str__(self):
        return self.url


class Recurring(models.Model):
    """What a recurring send launches: the compose form's campaign arguments
    (text, sender, audience, options, tags, description) in ``payload``."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, default="sms")
    name = models.CharField(_("название"), max_length=200, blank=True)
    payload = models.JSONField(default=dict)
    timezone = models.CharField(
        _("часовой пояс"), max_length=40, default="Europe/Moscow"
    )
    is_active = models.BooleanField(_("активна"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=now)
    last_error = models.CharField(_("последняя ошибка"), max_length=300, blank=True)

    class Meta:
        abstract = True


class Schedule(Recurring):
    """A scheduler entry (S10): sent at every time matching months × days of
    month × weekdays × hours × minutes in ``timezone``.  An empty list means
    "any" (minutes must be given)."""

    months = models.JSONField(_("месяцы"), default=list, blank=True)
    days = models.JSONField(_("дни месяца"), default=list, blank=True)
    weekdays = models.JSONField(_("дни недели"), default=list, blank=True)
    hours = models.JSONField(_("часы"), default=list, blank=True)
    minutes = models.JSONField(_("минуты"), default=list)
    # The next due time (UTC), kept up to date so the periodic task finds due
    # schedules with one indexed query; the last time a campaign was launched.
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(_("запусков"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("рассылка планировщика")
        verbose_name_plural = _("планировщик")
        indexes = [models.Index(fields=["is_active", "next_run_at"])]

    def __str__(self):
        return self.name or f"#{self.pk}"


class Greeting(Recurring):
    """A greeting (S9): each day at ``send_time`` the contacts whose date field
    (birth date or a custom date field) falls on that day receive the text."""

    occasion = models.CharField(_("повод для рассылки"), max_length=200)
    # "birth_date" or the key of a custom field holding a date.
    date_field = models.CharField(
        _("поле с датой"), max_length=64, default="birth_date"
    )
    send_time = models.TimeField(_("время отправки"))
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(_("запусков"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("поздравление")
        verbose_name_plural = _("поздравления и уведомления")
        indexes = [models.Index(fields=["is_active", "next_run_at"])]

    def __str__(self):
        return self.occasion


class AdvertisingRequest(models.Model):
    """An application for SMS advertising (D1), handled by staff."""

    class Status(models.TextChoices):
        NEW = "new", _("Новая")
        IN_WORK = "in_work", _("В работе")
        DONE = "done", _("Выполнена")
        REJECTED = "rejected", _("Отклонена")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("текст рассылки или повод"))
    targeting = models.TextField(_("критерии отбора аудитории"))
    cities = models.CharField(_("города"), max_length=300)
    volume = models.PositiveIntegerField(_("объем рассылки, смс"))
    sender = models.CharField(_("имя отправителя"), max_length=11, blank=True)
    contact = models.CharField(_("контактный телефон или email"), max_length=200)
    status = models.CharField(
        _("статус"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    staff_comment = models.TextField(_("комментарий сотрудника"), blank=True)
    created_at = models.DateTimeField(_("подана"), default=now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("заявка на SMS-рекламу")
        verbose_name_plural = _("заявки на SMS-рекламу")

    def __str__(self):
        return f"#{self.pk} {self.cities}"


class CampaignModeration(Decidable):
    """The staff decision on a campaign that went to moderation (S8): opened
    when the campaign is created in the "moderation" status
    (``messaging.decisions.campaign_moderation_open``), decided through
    ``cabinet.moderation.decide``; the engine effects of the decision are in
    ``messaging.decisions.campaign_decision_apply``."""

    campaign = models.OneToOneField(
        Campaign,
        on_delete=models.CASCADE,
        related_name="moderation",
        verbose_name=_("рассылка"),
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("аккаунт")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("рассылка на модерации")
        verbose_name_plural = _("рассылки на модерации")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return _("Рассылка #%(id)s") % {"id": self.campaign_id}

    def decision_notice(self) -> Notice:
        if self.status == Decision.APPROVED:
            title = _("Рассылка #%(id)s прошла модерацию")
        else:
            title = _("Рассылка #%(id)s отклонена модератором")
        return Notice(
            title=str(title % {"id": self.campaign_id}),
            body="\n".join(p for p in (self.reason_display, self.comment) if p),
        )
