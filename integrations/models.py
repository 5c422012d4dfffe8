"""Integrations: outgoing webhooks (A4) and the legacy protocol credentials
("Настройки → Безопасность → XML и JSON протокол").  API tokens live in
``cabinet.models.ApiToken``."""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


def new_webhook_secret() -> str:
    return secrets.token_hex(24)


class WebhookEndpoint(models.Model):
    """The account's webhook URL.  Events are POSTed to it in batches, signed
    with ``secret`` (HMAC-SHA256 over ``"<timestamp>." + body``)."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="webhook_endpoint"
    )
    url = models.URLField(_("адрес (URL)"), max_length=500)
    secret = models.CharField(
        _("секрет подписи"), max_length=64, default=new_webhook_secret
    )
    is_active = models.BooleanField(_("включён"), default=True)
    send_statuses = models.BooleanField(_("статусы сообщений"), default=True)
    send_incoming = models.BooleanField(_("входящие сообщения и ответы"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Consecutive failed deliveries (reset by a success); shown in the cabinet.
    failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("вебхук")
        verbose_name_plural = _("вебхуки")

    def __str__(self):
        return self.url


class WebhookEvent(models.Model):
    """The outbox: one event waiting for (or done with) delivery.

    Status-change rows are written by one ``INSERT … SELECT`` per signal and
    carry only ids; the message's details are read when the batch is built."""

    class Kind(models.TextChoices):
        STATUS = "message.status", _("Статус сообщения")
        INCOMING = "message.incoming", _("Входящее сообщение")
        TEST = "test", _("Тестовое событие")

    class State(models.TextChoices):
        PENDING = "pending", _("Ожидает отправки")
        DELIVERED = "delivered", _("Доставлено")
        FAILED = "failed", _("Не доставлено")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STATUS)
    message_id = models.BigIntegerField(null=True, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    old_status = models.CharField(max_length=16, blank=True, default="")
    new_status = models.CharField(max_length=16, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Due time of the next attempt; also the lease of a claimed batch.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivery = models.ForeignKey(
        "WebhookDelivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("событие вебхука")
        verbose_name_plural = _("события вебхуков")
        indexes = [
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                condition=models.Q(state="pending"),
                name="webhookevent_due_idx",
            ),
            models.Index(fields=["delivery"], name="webhookevent_delivery_idx"),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk}"


class WebhookDelivery(models.Model):
    """One HTTP POST of a batch of events: the delivery log."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    url = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    events_count = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    success = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("доставка вебхука")
        verbose_name_plural = _("журнал доставки вебхуков")
        indexes = [
            models.Index(fields=["account", "-id"], name="webhookdelivery_account_idx")
        ]

    def __str__(self):
        return f"{self.url} {self.status_code or self.error}"


class ProtocolCredentials(models.Model):
    """Login and password of the legacy XML/JSON protocol (``/lcabApi/…``),
    optionally limited to listed IP addresses.  The password is hashed."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="protocol_credentials"
    )
    login = models.CharField(_("логин"), max_length=64, unique=True)
    password_hash = models.CharField(max_length=200)
    ip_restricted = models.BooleanField(
        _("Протокол доступен только для некоторых IP-адресов"), default=False
    )
    allowed_ips = models.TextField(_("разрешённые IP-адреса"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("доступ по XML и JSON протоколу")
        verbose_name_plural = _("доступы по XML и JSON протоколу")

    def __str__(self):
        return self.login

    def allowed_ip_list(self) -> list[str]:
        if not self.ip_restricted:
            return []
        return [
            ip.strip()
            for ip in self.allowed_ips.replace(",", "\n").splitlines()
            if ip.strip()
        ]
