"""The channel-agnostic core: campaigns (one send, any channel) and their
messages.  Statuses use one vocabulary for every channel (SPEC S12)."""

from decimal import Decimal

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account

__all__ = [
    "MessageStatus",
    "Source",
    "Campaign",
    "Message",
    "CampaignCounter",
    "GatewaySubmission",
]


class MessageStatus(models.TextChoices):
    # Before the carrier
    MODERATION = "moderation", _("На модерации")
    DEFERRED = "deferred", _("Отложено")
    QUEUED = "queued", _("В процессе отправки")
    SENDING = "sending", _("Передаётся оператору")
    # At the carrier
    SENT = "sent", _("Отправлено оператору")
    DELIVERED = "delivered", _("Доставлено")
    VIEWED = "viewed", _("Просмотрено")
    CLICKED = "clicked", _("Клик")
    SUCCESS = "success", _("Успешный вызов")
    IVR = "ivr", _("IVR")
    UNSUBSCRIBED = "unsubscribed", _("Абонент отписался")
    SPAM = "spam", _("Спам")
    UNDELIVERED = "undelivered", _("Не доставлено")
    # Never reached the carrier
    CANCELLED = "cancelled", _("Отменено")
    EXPIRED = "expired", _("Истекло время жизни")
    FAILED = "failed", _("Ошибка отправки")


S = MessageStatus

# Statuses a message can still leave.
PENDING_STATUSES = frozenset({S.MODERATION, S.DEFERRED, S.QUEUED, S.SENDING})
# Statuses that mean the message never reached the carrier: refunded once.
REFUNDABLE_STATUSES = frozenset({S.CANCELLED, S.EXPIRED, S.FAILED})

# Progress order of carrier statuses.  A receipt may only move a message forward
# (a late "delivered" never overwrites "clicked"); "undelivered" is final but a
# click or view proves delivery, so those win over it.
STATUS_RANK = {
    S.MODERATION: 0,
    S.DEFERRED: 0,
    S.QUEUED: 0,
    S.SENDING: 1,
    S.SENT: 2,
    S.UNDELIVERED: 3,
    S.DELIVERED: 3,
    S.SPAM: 3,
    S.SUCCESS: 4,
    S.VIEWED: 4,
    S.IVR: 5,
    S.CLICKED: 5,
    S.UNSUBSCRIBED: 6,
    S.CANCELLED: 9,
    S.EXPIRED: 9,
    S.FAILED: 9,
}


def statuses_before(status: str) -> list[str]:
    """The statuses a receipt carrying ``status`` may overwrite."""
    rank = STATUS_RANK[status]
    return [
        s for s, r in STATUS_RANK.items() if r < rank and s not in REFUNDABLE_STATUSES
    ]


class Source(models.TextChoices):
    CABINET = "cabinet", _("Личный кабинет")
    API = "api", _("API")
    COMPAT = "compat", _("JSON API v1.0")
    SCHEDULER = "scheduler", _("Планировщик")
    GREETING = "greeting", _("Поздравления")
    SCENARIO = "scenario", _("Сценарий")
    EVENT = "event", _("Событие")
    SYSTEM = "system", _("Служебное")


class Campaign(models.Model):
    class Status(models.TextChoices):
        MODERATION = "moderation", _("На модерации")
        SCHEDULED = "scheduled", _("Отложена")
        PREPARING = "preparing", _("Подготовка")
        RUNNING = "running", _("Отправляется")
        PAUSED = "paused", _("Приостановлена")
        DONE = "done", _("Завершена")
        CANCELLED = "cancelled", _("Отменена")
        REJECTED = "rejected", _("Отклонена модератором")

    # Indexed by (account, -created_at) below, which leads with it.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="campaigns", db_index=False
    )
    channel = models.CharField(_("канал"), max_length=16, default="sms")
    source = models.CharField(
        _("способ отправки"),
        max_length=16,
        choices=Source.choices,
        default=Source.CABINET,
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PREPARING
    )
    sender = models.CharField(_("отправитель"), max_length=64, blank=True)
    text = models.TextField(_("текст"), blank=True)
    # Channel content beyond text (Viber image/button, voice audio…) and sending
    # options (smooth, ttl, window, transliterate, recipients…).
    content = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    # Who receives it: {"group_ids": [...], "filters": {...}, "phones": [...]}.
    audience = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(_("тэги"), default=list, blank=True)
    description = models.CharField(_("описание"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("создана"), default=now)
    send_at = models.DateTimeField(_("время отправки"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The client's idempotency key: a repeated create with the same key returns
    # the first campaign.
    client_id = models.CharField(max_length=64, blank=True, default="")
    recipients = models.PositiveIntegerField(_("получателей"), default=0)
    # Message rows written so far by prepare (progress; equals ``recipients``
    # when preparation is complete).
    prepared = models.PositiveIntegerField(default=0)
    # Last progress of preparation: a preparation silent for a minute lost its
    # worker and is started again (messaging.tasks.dispatch_all).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Money taken at launch minus refunds so far.
    cost = models.DecimalField(
        _("стоимость"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    moderation_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("рассылка")
        verbose_name_plural = _("рассылки")
        indexes = [
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_id"],
                condition=~models.Q(client_id=""),
                name="campaign_unique_client_id",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.channel} {self.text[:40]}"


class Message(models.Model):
    """One message to one recipient.  Rows are written in bulk by prepare and
    moved through statuses by set-based updates (messaging.services)."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    channel = models.CharField(max_length=16, default="sms")
    phone = models.CharField(_("получатель"), max_length=20)
    sender = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    parts = models.PositiveSmallIntegerField(default=1)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    reason = models.CharField(_("причина"), max_length=200, blank=True)
    operator = models.CharField(_("оператор"), max_length=64, blank=True)
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=40, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("создано"), default=now)
    send_at = models.DateTimeField(_("время отправки"), default=now)
    expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)
    gateway_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    refunded = models.BooleanField(default=False)
    # The integrator's own id of this message (JSON API v1.0 `id`).  Not
    # unique: clients reuse ids (one id for a whole batch, "string" copied from
    # an example), and a reused id with other content is another message.
    client_ref = models.CharField(max_length=64, blank=True, default="")
    # An opaque digest the caller computes from what makes a repeated request
    # the same message (the compatible API: id, recipient, submitted text).
    # Unique per account, so a replay — even two racing requests — is written
    # once; empty for messages nobody may replay.
    client_key = models.CharField(max_length=32, blank=True, default="", db_default="")
    # Channel facts the carrier reported (``Receipt.extra``): seen/clicked
    # times, a reply, seconds listened, the digit pressed…
    # (A database default too: bulk writers — COPY, the one-statement API
    # path — leave the column out.)
    extra = models.JSONField(
        default=dict,
        blank=True,
        db_default=models.Value({}, output_field=models.JSONField()),
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("сообщение")
        verbose_name_plural = _("сообщения")
        indexes = [
            models.Index(fields=["campaign", "status"]),
            # A campaign's messages page by page (reports, API cursor).
            models.Index(fields=["campaign", "id"], name="message_campaign_id_idx"),
            models.Index(fields=["account", "-created_at"]),
            # Claims walk this index in (send_at, id) order and stop at LIMIT.
            models.Index(
                fields=["channel", "send_at", "id"],
                condition=models.Q(status__in=["queued", "deferred"]),
                name="message_due_idx",
            ),
            models.Index(
                fields=["gateway_id"],
                condition=~models.Q(gateway_id=""),
                name="message_gateway_idx",
            ),
            # The sweep of messages whose report never came reads only those
            # still awaiting one.
            models.Index(
                fields=["channel", "sent_at"],
                condition=models.Q(status="sent"),
                name="message_awaiting_report_idx",
            ),
            # Status by the integrator's id: the latest message carrying it.
            models.Index(
                fields=["account", "client_ref", "id"],
                condition=~models.Q(client_ref=""),
                name="message_client_ref_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_key"],
                condition=~models.Q(client_key=""),
                name="message_unique_client_key",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.phone} {self.status}"


class CampaignCounter(models.Model):
    """Messages of a campaign per status, maintained in the same transaction as
    every status change so reports never count a million rows."""

    # Indexed by the unique (campaign, status), which leads with it.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="counters", db_index=False
    )
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "status"], name="counter_unique"
            )
        ]
        indexes = [
            # Tabs that list campaigns having messages in a status (deferred…).
            models.Index(
                fields=["status", "campaign"],
                condition=models.Q(count__gt=0),
                name="counter_live_idx",
            )
        ]

    def __str__(self):
        return f"{self.campaign_id}:{self.status}={self.count}"


class GatewaySubmission(models.Model):
    """Append-only record of every message a fake gateway received.  Proves
    exactly-once: each message id must appear once."""

    channel = models.CharField(max_length=16)
    message_id = models.BigIntegerField(db_index=True)
    gateway_id = models.CharField(max_length=64)
    phone = models.CharField(max_length=20)
    sender = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    # The channel's content as the gateway received it (image, button…).
    content = models.JSONField(
        default=dict,
        blank=True,
        db_default=models.Value({}, output_field=models.JSONField()),
    )
    submitted_at = models.DateTimeField(default=now)
    # A re-submission of an id the gateway already had (acknowledged, not sent).
    duplicate = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("передача шлюзу")
        verbose_name_plural = _("передачи шлюзу")

    def __str__(self):
        return f"{self.channel}:{self.message_id}"
