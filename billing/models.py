from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


class LedgerKind(models.TextChoices):
    TOPUP = "topup", _("Пополнение")
    PAYMENT = "payment", _("Оплата")
    CHARGE = "charge", _("Списание")
    REFUND = "refund", _("Возврат за отмененные сообщения")
    ADJUSTMENT = "adjustment", _("Корректировка")
    BONUS = "bonus", _("Бонус")


class LedgerEntry(models.Model):
    """One movement of money.  Append-only; the account's balance is the sum of
    its entries and is updated in the same transaction (billing.services)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="ledger_entries")
    amount = models.DecimalField(_("сумма"), max_digits=14, decimal_places=2)
    kind = models.CharField(_("тип"), max_length=16, choices=LedgerKind.choices)
    reason = models.CharField(_("описание"), max_length=300)
    # What caused it: "campaign:12", "payment:5", "admin:3"…  Unique per kind
    # where given, so a retried operation cannot post twice.
    reference = models.CharField(max_length=64, blank=True, default="")
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    created_by = models.ForeignKey(
        "cabinet.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("дата"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("операция")
        verbose_name_plural = _("движение денежных средств")
        indexes = [models.Index(fields=["account", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "reference"],
                condition=~models.Q(reference=""),
                name="ledger_unique_reference",
            ),
            models.CheckConstraint(condition=~models.Q(amount=Decimal("0")), name="ledger_nonzero"),
        ]

    def __str__(self):
        return f"{self.created_at:%d.%m.%Y %H:%M} {self.amount} {self.reason}"


class Tariff(models.Model):
    """Price of one unit (an SMS part, a Viber message, a call) by channel,
    country and operator and tier.  Empty operator = any operator of the country;
    tier 0 = the base price."""

    channel = models.CharField(max_length=16)
    country = models.CharField(max_length=2, default="RU")
    operator = models.CharField(max_length=64, blank=True, default="")
    tier = models.PositiveSmallIntegerField(default=0)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("тариф")
        verbose_name_plural = _("тарифы")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "country", "operator", "tier"], name="tariff_unique"
            )
        ]

    def __str__(self):
        return f"{self.channel} {self.country} {self.operator or '*'} t{self.tier}: {self.price}"
