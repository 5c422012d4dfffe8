"""Scenarios (SPEC X1, manual section 7): a chain of blocks, each a send on
one channel with its own form plus a decision time; a run sends the chain to an
audience, recipient by recipient.

A run's per-recipient state lives in ``Hop`` rows — one per (run, step,
phone), unique, so a step reaches a recipient at most once.  A hop waiting
for its message's final status carries ``decide_at``: the sweeper
(``scenarios.engine.sweep``) claims due hops with the dispatcher's claim
pattern (``FOR UPDATE SKIP LOCKED``) — never a Celery countdown."""

from decimal import Decimal

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


class Scenario(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="scenarios"
    )
    name = models.CharField(_("название"), max_length=100)
    # The blocks in order: [{"channel", "sender", "text", "content",
    # "options", "decision"}] (``scenarios.blocks``).
    steps = models.JSONField(default=list)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("сценарий")
        verbose_name_plural = _("сценарии")
        indexes = [models.Index(fields=["account", "-updated_at"])]

    def __str__(self):
        return self.name


class Run(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Запланирован")
        RUNNING = "running", _("Выполняется")
        DONE = "done", _("Завершён")
        CANCELLED = "cancelled", _("Отменён")

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="scenario_runs"
    )
    scenario = models.ForeignKey(
        Scenario, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    name = models.CharField(max_length=100)
    # The blocks as they were at launch (the scenario may change later).
    steps = models.JSONField(default=list)
    audience = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, default="cabinet")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    created_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=now)
    send_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    # The estimate shown before launch.
    worst_cost = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0")
    )
    expected_cost = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0")
    )
    sms_only_cost = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0")
    )
    client_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("запуск сценария")
        verbose_name_plural = _("запуски сценариев")
        indexes = [models.Index(fields=["account", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_id"],
                condition=~models.Q(client_id=""),
                name="scenario_run_unique_client_id",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.name}"


class Hop(models.Model):
    """One step of a run for one recipient."""

    class State(models.TextChoices):
        PENDING = "pending", _("Ожидает отправки")
        WAITING = "waiting", _("Ожидает статуса")
        SUCCESS = "success", _("Доставлено")
        MOVED = "moved", _("Переход к следующему шагу")
        EXCLUDED = "excluded", _("Не отправлено (стоп-лист, отписка)")
        FAILED = "failed", _("Не доставлено")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="hops")
    account_id = models.BigIntegerField()
    step = models.PositiveSmallIntegerField()
    phone = models.CharField(max_length=20)
    # What is known of the recipient (country, operator, region, timezone,
    # contact_id, client_ref) — handed to the planner at every step.
    recipient = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING
    )
    decide_at = models.DateTimeField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # A success receipt that came after the recipient was moved on.
    late = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["run", "phone", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "step", "phone"], name="scenario_hop_once"
            )
        ]
        indexes = [
            # The sweeper's claim walks due hops in (decide_at, id) order.
            models.Index(
                fields=["decide_at", "id"],
                condition=models.Q(state__in=["pending", "waiting"]),
                name="scenario_hop_due_idx",
            ),
            models.Index(
                fields=["message_id"],
                condition=models.Q(message_id__isnull=False),
                name="scenario_hop_message_idx",
            ),
            models.Index(fields=["run", "step", "state"]),
        ]

    def __str__(self):
        return f"{self.run_id}:{self.step}:{self.phone} {self.state}"
