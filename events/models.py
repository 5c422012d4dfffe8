"""Events (SPEC E1, manual section 12): handlers, the event outbox and runs.

* ``Handler`` — an event type, conditions on the event's data and one or more
  ``Action`` rows; active or not.
* ``Event`` — the outbox: written in the transaction of its cause (or by a
  receiver right after it commits); processed in batches by a claim.
* ``Run`` — what one handler did for one event; unique per (handler, event),
  so a handler runs at most once per event even when a worker dies.
* ``ActionCampaign`` — campaigns launched by actions, with the chain depth
  their statuses carry into the next events (the loop guard).
* ``WebhookCall`` — a webhook action's signed POST, retried with backoff.
"""

from decimal import Decimal

from django.conf import settings as dj_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


class Handler(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="event_handlers"
    )
    kind = models.CharField(_("событие"), max_length=32)
    name = models.CharField(_("название"), max_length=200, blank=True)
    is_active = models.BooleanField(_("активно"), default=True)
    # [{"field": "group", "op": "eq", "value": "12"}, …] — all must hold.
    conditions = models.JSONField(default=list, blank=True)
    # The event type's own settings: threshold, date field and time…
    settings = models.JSONField(default=dict, blank=True)
    # The rate breaker: more runs than this within an hour switch it off.
    max_runs_per_hour = models.PositiveIntegerField(
        _("запусков в час, не более"), default=1000
    )
    created_by = models.ForeignKey(
        dj_settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    runs_count = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)
    # Why the handler switched itself off (the rate breaker), shown on the page.
    stopped_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("обработчик события")
        verbose_name_plural = _("обработчики событий")
        indexes = [models.Index(fields=["account", "kind", "is_active"])]

    def __str__(self):
        return self.name or f"#{self.pk}"


class Action(models.Model):
    handler = models.ForeignKey(
        Handler, on_delete=models.CASCADE, related_name="actions"
    )
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("действие"), max_length=32)
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("действие")
        verbose_name_plural = _("действия")

    def __str__(self):
        return self.kind


class Event(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Ожидает")
        DONE = "done", _("Обработано")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=32)
    # What happened: ids and the facts conditions read (see events/kinds.py).
    payload = models.JSONField(default=dict, blank=True)
    # A cause that may be announced twice (a repeated carrier callback) writes
    # one row: unique per (account, kind, key) when the key is not empty.
    key = models.CharField(max_length=200, blank=True, default="")
    # How many actions led here (0 = a person or an outside system).
    depth = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(state="pending"),
                name="events_event_pending_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "key"],
                condition=~models.Q(key=""),
                name="events_event_key_unique",
            )
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk}"


class Run(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", _("Выполнено")
        PARTIAL = "partial", _("Выполнено частично")
        FAILED = "failed", _("Ошибка")
        DEPTH = "depth", _("Остановлено: слишком длинная цепочка")
        RATE = "rate", _("Остановлено ограничителем")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    handler = models.ForeignKey(Handler, on_delete=models.CASCADE, related_name="runs")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="runs")
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # «что произошло»: the event in words; «что сделано»: one line per action.
    trigger = models.CharField(max_length=300, blank=True)
    results = models.JSONField(default=list, blank=True)
    subjects = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["handler", "-id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["handler", "event"], name="events_run_once_per_event"
            )
        ]

    def __str__(self):
        return f"{self.handler_id}/{self.event_id}: {self.outcome}"


class ActionCampaign(models.Model):
    """A campaign an action launched: its statuses' events carry ``depth``."""

    campaign_id = models.BigIntegerField(unique=True)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="campaigns")
    depth = models.PositiveSmallIntegerField(default=1)

    def __str__(self):
        return f"campaign {self.campaign_id} (depth {self.depth})"


class WebhookCall(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Ожидает отправки")
        DELIVERED = "delivered", _("Доставлен")
        FAILED = "failed", _("Не доставлен")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=500)
    body = models.JSONField(default=dict)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="events_webhook_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.url} ({self.state})"
