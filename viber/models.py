"""Viber (SPEC B1–B3): uploaded images, the prepaid monthly packages of own
sender names, and the replies recipients send back."""

import uuid

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account
from messaging.models import Campaign, Message, SenderName


def _public_id() -> str:
    return uuid.uuid4().hex


class ViberImage(models.Model):
    """An image checked with Pillow and stored re-encoded (no metadata, no
    payload hidden after the picture), with a thumbnail.  ``public_id`` is the
    upload id a campaign's content names and the unguessable part of the
    address Viber fetches the picture from."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="viber_images"
    )
    public_id = models.CharField(max_length=32, unique=True, default=_public_id)
    file = models.FileField(upload_to="viber/images/")
    thumbnail = models.FileField(upload_to="viber/thumbnails/")
    original_name = models.CharField(_("имя файла"), max_length=255, blank=True)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(_("размер, байт"))
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("изображение Viber")
        verbose_name_plural = _("изображения Viber")
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self):
        return self.original_name or self.public_id


class SenderPackage(models.Model):
    """A prepaid monthly package of an own Viber sender name (manual 5.4): one
    row per calendar period.  Charged when staff put the name to work (its
    approval) or when the client renews; valid from ``starts_on`` to the last
    day of that calendar month (``ends_on``), not for 31 days."""

    class Start(models.TextChoices):
        NOW = "now", _("С момента одобрения")
        NEXT_MONTH = "next_month", _("Со следующего месяца")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Ждёт одобрения имени")
        UNPAID = "unpaid", _("Не оплачен")
        PAID = "paid", _("Оплачен")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="viber_packages"
    )
    sender_name = models.ForeignKey(
        SenderName, on_delete=models.CASCADE, related_name="viber_packages"
    )
    start = models.CharField(
        _("начало действия"), max_length=16, choices=Start.choices, default=Start.NOW
    )
    status = models.CharField(
        _("статус"), max_length=16, choices=Status.choices, default=Status.WAITING
    )
    starts_on = models.DateField(_("действует с"), null=True, blank=True)
    ends_on = models.DateField(_("действует по"), null=True, blank=True)
    price = models.DecimalField(
        _("стоимость"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("пакет имени отправителя Viber")
        verbose_name_plural = _("пакеты имён отправителя Viber")
        indexes = [models.Index(fields=["account", "status", "ends_on"])]
        constraints = [
            # One package per name and period: a double click or a repeated
            # approval cannot buy the same month twice.
            models.UniqueConstraint(
                fields=["sender_name", "starts_on"],
                condition=models.Q(starts_on__isnull=False),
                name="viber_package_unique_period",
            ),
            models.UniqueConstraint(
                fields=["sender_name"],
                condition=models.Q(status__in=["waiting", "unpaid"]),
                name="viber_package_one_open",
            ),
        ]

    def __str__(self):
        return f"{self.sender_name.name} {self.starts_on}–{self.ends_on}"


class Reply(models.Model):
    """A recipient's answer to a Viber message (manual 5.3 «Ответы»), kept per
    contact; only campaigns sent with «Получать ответ в Online-чат» get them."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="viber_replies"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="viber_replies"
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    phone = models.CharField(_("номер телефона"), max_length=20)
    contact_id = models.BigIntegerField(null=True, blank=True)
    sender = models.CharField(_("отправитель"), max_length=64, blank=True)
    text = models.TextField(_("текст ответа"))
    # The carrier's id of the reply: a repeated callback stores it once.
    external_id = models.CharField(max_length=64)
    received_at = models.DateTimeField(_("получен"), default=now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("ответ Viber")
        verbose_name_plural = _("ответы Viber")
        indexes = [
            models.Index(fields=["account", "-received_at"]),
            models.Index(fields=["account", "phone"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "external_id"], name="viber_reply_unique"
            )
        ]

    def __str__(self):
        return f"{self.phone}: {self.text[:40]}"
