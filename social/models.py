"""VK and OK (SPEC K1, manual section 6) and notifications in messengers
(SPEC N1, manual section 13).

* ``NameRequest`` — the account's request for sender names in VK and OK: the
  groups messages come from and the signed confirmation letter; staff decide
  it (``cabinet.moderation``), and an approval makes each group an approved
  ``messaging.SenderName`` of its channel.
* ``MessengerBinding`` / ``BindingCode`` — a messenger chat (Telegram, Viber,
  VK, OK) bound to the account by a one-time code sent to the service's bot;
  the kinds of notifications it gets.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account, Notification
from cabinet.moderation import Decidable, Decision, Notice


def _letter_path(instance, filename: str) -> str:
    # Never the client's file name on disk: a random one with the checked type.
    return f"social/letters/{uuid.uuid4().hex}.{instance.letter_ext or 'bin'}"


class NameRequest(Decidable):
    """«Рассылки ВК и ОК → Имена отправителя → Редактирование» (manual 6.1):
    the VK group and/or the OK group messages will come from, and the signed
    confirmation letter.  Every row is history; an approved row's groups are
    the account's sender names (``messaging.SenderName`` of channel vk/ok)."""

    class Reason(models.TextChoices):
        LETTER = (
            "letter",
            _("Подтверждающее письмо не подписано или не соответствует бланку"),
        )
        REQUISITES = (
            "requisites",
            _("Реквизиты в письме не совпадают с реквизитами аккаунта"),
        )
        GROUP = (
            "group",
            _("Группа не найдена или не принадлежит вашей организации"),
        )
        OTHER = "other", _("Другая причина (см. комментарий)")

    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="social_name_requests",
        verbose_name=_("аккаунт"),
    )
    vk_group = models.CharField(_("группа VK"), max_length=200, blank=True)
    ok_group = models.CharField(_("группа ОК"), max_length=200, blank=True)
    letter = models.FileField(_("подтверждающее письмо"), upload_to=_letter_path)
    letter_name = models.CharField(_("имя файла"), max_length=255, blank=True)
    letter_ext = models.CharField(max_length=8, blank=True)
    letter_size = models.PositiveIntegerField(_("размер, байт"), default=0)
    reason = models.CharField(
        _("причина отказа"), max_length=32, blank=True, choices=Reason.choices
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("заявка на имя отправителя ВК/ОК")
        verbose_name_plural = _("заявки на имена отправителя ВК/ОК")
        indexes = [models.Index(fields=["account", "status"])]
        constraints = [
            # One request on review at a time (a double submit included).
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="pending"),
                name="social_one_pending_request",
            )
        ]

    def __str__(self):
        return " / ".join(g for g in (self.vk_group, self.ok_group) if g) or str(
            self.pk
        )

    def groups(self) -> list[tuple[str, str]]:
        """(channel, sender name) of the groups requested."""
        return [
            (channel, name)
            for channel, name in (("vk", self.vk_group), ("ok", self.ok_group))
            if name
        ]

    def decision_notice(self) -> Notice:
        if self.status == Decision.APPROVED:
            title = gettext("Имя отправителя ВК/ОК «%(name)s» одобрено") % {
                "name": self
            }
            body = gettext("Теперь можно отправлять рассылки ВК и ОК от этих групп.")
        else:
            title = gettext("Имя отправителя ВК/ОК «%(name)s» отклонено") % {
                "name": self
            }
            body = self.reason_display
        return Notice(
            title=title,
            body="\n".join(p for p in (body, self.comment) if p),
            url="/social/senders/",
            kind=Notification.Kind.SENDER,
        )


class Messenger(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    VIBER = "viber", "Viber"
    VK = "vk", "VK"
    OK = "ok", "OK"


# The kinds a new binding gets: everything the centre has.
ALL_KINDS = [k for k, _label in Notification.Kind.choices]


def _all_kinds():
    return list(ALL_KINDS)


class MessengerBinding(models.Model):
    """A messenger chat that gets the account's notifications (manual 13):
    bound when the bot received the account's one-time code from it."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="messenger_bindings"
    )
    messenger = models.CharField(
        _("мессенджер"), max_length=16, choices=Messenger.choices
    )
    # The messenger's id of the chat / user the bot writes to.
    chat_id = models.CharField(max_length=64)
    title = models.CharField(_("получатель"), max_length=200, blank=True)
    kinds = models.JSONField(_("виды уведомлений"), default=_all_kinds)
    created_at = models.DateTimeField(_("подключено"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["messenger", "created_at", "id"]
        verbose_name = _("подписка в мессенджере")
        verbose_name_plural = _("подписки в мессенджерах")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "messenger", "chat_id"],
                name="social_binding_unique_chat",
            )
        ]

    def __str__(self):
        return f"{self.get_messenger_display()}: {self.title or self.chat_id}"


class BindingCode(models.Model):
    """The one-time code a user sends to a messenger's bot to bind a chat.
    Expires; used once."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="messenger_codes"
    )
    messenger = models.CharField(max_length=16, choices=Messenger.choices)
    code = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["messenger", "code"],
                condition=models.Q(used_at__isnull=True),
                name="social_code_unique_live",
            )
        ]

    def __str__(self):
        return f"{self.messenger}:{self.code}"
