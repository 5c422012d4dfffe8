"""The staff console's own rows: who holds which queue item, and the audit
log of every staff action."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


class Claim(models.Model):
    """A staff member working on one item of a queue (``cabinet.moderation``
    queue key + the item's id).  Taken with ``SKIP LOCKED`` so two staff never
    take the same item; it lapses after ``services.CLAIM_TTL``."""

    queue = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "object_id"], name="staff_claim_unique_item"
            )
        ]

    def __str__(self):
        return f"{self.queue}#{self.object_id} → {self.staff_id}"


class AuditEntry(models.Model):
    """One staff action (append-only)."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("сотрудник"),
    )
    action = models.CharField(_("действие"), max_length=32)
    target = models.CharField(_("объект"), max_length=64)
    object_id = models.BigIntegerField(null=True, blank=True)
    account = models.ForeignKey(
        Account,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("аккаунт"),
    )
    details = models.JSONField(_("подробности"), default=dict, blank=True)
    created_at = models.DateTimeField(_("дата"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]
        verbose_name = _("действие сотрудника")
        verbose_name_plural = _("журнал действий сотрудников")

    def __str__(self):
        return f"{self.created_at:%d.%m.%Y %H:%M} {self.action} {self.target}"
