"""Promo coupons (SPEC S11): promo actions, the unique codes sent to recipients,
and the managers who check codes on the separate check page."""

from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account

CODE_LENGTH_MIN = 4
CODE_LENGTH_MAX = 15


class PromoAction(models.Model):
    """A marketing action: the settings every code sent for it shares."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="promo_actions"
    )
    name = models.CharField(_("Название акции"), max_length=200)
    # Empty: the action starts for each code at the moment it is sent.
    starts_at = models.DateTimeField(_("Начало акции"), null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(
        _("Срок действия промо-кода, дней"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    code_length = models.PositiveSmallIntegerField(
        _("Длина кода"),
        default=6,
        validators=[
            MinValueValidator(CODE_LENGTH_MIN),
            MaxValueValidator(CODE_LENGTH_MAX),
        ],
    )
    instruction = models.TextField(_("Инструкция для менеджера"), blank=True)
    is_active = models.BooleanField(_("активна"), default=True)
    # Reminders to recipients who have not used their code: the first one
    # ``reminder_after_days`` after the first codes went out, then every
    # ``reminder_every_days``, ``reminder_count`` rounds at most.
    reminders_enabled = models.BooleanField(
        _("Дополнительные напоминания"), default=False
    )
    reminder_after_days = models.PositiveSmallIntegerField(
        _("Первое напоминание через, дней"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    reminder_every_days = models.PositiveSmallIntegerField(
        _("Повторять каждые, дней"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    reminder_count = models.PositiveSmallIntegerField(
        _("Количество напоминаний"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    reminder_text = models.TextField(_("Текст напоминания"), blank=True)
    reminder_sender = models.CharField(
        _("Отправитель напоминаний"), max_length=11, blank=True
    )
    # When the first code of the action was sent: the anchor of reminder rounds.
    first_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_rounds_done = models.PositiveSmallIntegerField(default=0)
    reminder_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("создана"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("промо-акция")
        verbose_name_plural = _("промо-акции")
        indexes = [models.Index(fields=["account", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    code_length__gte=CODE_LENGTH_MIN, code_length__lte=CODE_LENGTH_MAX
                ),
                name="promo_action_code_length_range",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_days__gte=1),
                name="promo_action_valid_days_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def code_window(self, issued_at: datetime) -> tuple[datetime, datetime]:
        """(valid from, valid until) of a code sent at ``issued_at``: validity runs
        from the action's start or the sending, whichever is later."""
        start = max(self.starts_at, issued_at) if self.starts_at else issued_at
        return start, start + timedelta(days=self.valid_days)

    def reminder_due_at(self, round_no: int) -> datetime | None:
        """When reminder round ``round_no`` (1-based) is due, or None."""
        if not self.reminders_enabled or self.first_sent_at is None:
            return None
        if round_no > self.reminder_count:
            return None
        return self.first_sent_at + timedelta(
            days=self.reminder_after_days + (round_no - 1) * self.reminder_every_days
        )


class PromoManager(models.Model):
    """A shop clerk who checks codes on the check page.  Not a cabinet user:
    own login (unique across the service), hashed password, own session key."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="promo_managers"
    )
    name = models.CharField(_("Имя менеджера"), max_length=100)
    login = models.CharField(_("Логин"), max_length=64, unique=True)
    password = models.CharField(max_length=128)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("менеджер промо-акций")
        verbose_name_plural = _("менеджеры промо-акций")

    def __str__(self):
        return f"{self.name} ({self.login})"

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        def upgrade(raw_password):
            self.set_password(raw_password)
            type(self).objects.filter(pk=self.pk).update(password=self.password)

        return check_password(raw, self.password, upgrade)


class PromoCode(models.Model):
    """One code sent to one recipient.  Written in bulk by ``PromoCodeIssuer``."""

    # No database FK constraints on these two: the per-row RI triggers would
    # cost more than the COPY itself for a million codes.  The issuer writes
    # only ids it has just checked, and deletes cascade in Django.
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # (account, code) is unique below
        db_constraint=False,
    )
    action = models.ForeignKey(
        PromoAction,
        on_delete=models.CASCADE,
        related_name="codes",
        db_index=False,  # (action, used_at) index below
        db_constraint=False,
    )
    code = models.CharField(_("промокод"), max_length=CODE_LENGTH_MAX)
    phone = models.CharField(_("получатель"), max_length=20, blank=True)
    # Loose references into messaging (no database constraint: messages are
    # written in the same transaction and may be purged independently).
    campaign = models.ForeignKey(
        "messaging.Campaign",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    message = models.ForeignKey(
        "messaging.Message",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("отправлен"), default=timezone.now)
    used_at = models.DateTimeField(_("использован"), null=True, blank=True)
    # Null on insert: no FK trigger and no index entry per new code (partial
    # index below); SET_NULL on removal is done by Django.
    used_by = models.ForeignKey(
        PromoManager,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Who marked it used, kept when the manager is removed ("API" for the API).
    used_by_name = models.CharField(max_length=100, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("промокод")
        verbose_name_plural = _("промокоды")
        indexes = [
            models.Index(fields=["action", "used_at"]),
            models.Index(
                fields=["used_by"],
                condition=models.Q(used_by__isnull=False),
                name="promo_code_used_by_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "code"], name="promo_code_unique_per_account"
            ),
        ]

    def __str__(self):
        return self.code
