from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account


class LedgerKind(models.TextChoices):
    TOPUP = "topup", _("Пополнение")
    PAYMENT = "payment", _("Оплата")
    CHARGE = "charge", _("Списание")
    REFUND = "refund", _("Возврат")
    ADJUSTMENT = "adjustment", _("Корректировка")
    BONUS = "bonus", _("Бонус")
    PAYMENT_REFUND = "payment_refund", _("Возврат платежа")


class LedgerEntry(models.Model):
    """One movement of money.  Append-only; the account's balance is the sum of
    its entries and is updated in the same transaction (billing.services)."""

    # No index of its own: (account, -created_at) below and the unique
    # (account, kind, reference) lead with it — one index fewer to write per
    # charge on the send path.
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        db_index=False,
    )
    amount = models.DecimalField(_("сумма"), max_digits=14, decimal_places=2)
    kind = models.CharField(_("тип"), max_length=16, choices=LedgerKind.choices)
    reason = models.CharField(_("описание"), max_length=300)
    # What caused it: "campaign:12", "payment:5", "admin:3"…  Unique per kind
    # where given, so a retried operation cannot post twice.
    reference = models.CharField(max_length=64, blank=True, default="")
    # The service a charge or refund belongs to (a channel: "sms", "viber"…),
    # for the "services rendered" report; empty for money in.
    service = models.CharField(_("услуга"), max_length=16, blank=True, default="")
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    created_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
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
            models.CheckConstraint(
                condition=~models.Q(amount=Decimal("0")), name="ledger_nonzero"
            ),
        ]

    def __str__(self):
        return f"{self.created_at:%d.%m.%Y %H:%M} {self.amount} {self.reason}"


class Tariff(models.Model):
    """Price of one unit (an SMS part, a Viber message, a call) by channel,
    country and operator and tier.  Empty operator = any operator of the country;
    tier 0 = the base price."""

    channel = models.CharField(max_length=16)
    # A channel's price line beyond country and operator, named by the channel
    # (Viber: own or shared sender × promotional or service message); "" for
    # channels with one line.
    variant = models.CharField(max_length=32, blank=True, default="")
    country = models.CharField(max_length=2, default="RU")
    operator = models.CharField(max_length=64, blank=True, default="")
    tier = models.PositiveSmallIntegerField(default=0)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    # A first block of units priced whole (a call: «Первые 20 секунд», manual
    # 4.5): the first ``first_units`` units cost ``first_price`` together —
    # any call answered for 1 to 20 seconds — and ``price`` is each unit
    # after them.  0 / empty = every unit at ``price`` (SMS parts, messages).
    first_units = models.PositiveSmallIntegerField(
        _("первый блок, единиц"), default=0
    )
    first_price = models.DecimalField(
        _("цена первого блока"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("тариф")
        verbose_name_plural = _("тарифы")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "variant", "country", "operator", "tier"],
                name="tariff_unique_variant",
            ),
            # A first block has both its length and its price, or neither.
            models.CheckConstraint(
                condition=(
                    models.Q(first_units=0, first_price__isnull=True)
                    | models.Q(first_units__gt=0, first_price__isnull=False)
                ),
                name="tariff_first_block_whole",
                violation_error_message=_(
                    "Укажите и длину первого блока, и его цену (или ни того, ни "
                    "другого)."
                ),
            ),
        ]

    def __str__(self):
        operator = self.operator or "*"
        line = f"{self.channel}/{self.variant}" if self.variant else self.channel
        first = (
            f"{self.first_price}/{self.first_units} + "
            if self.first_units and self.first_price is not None
            else ""
        )
        return f"{line} {self.country} {operator} t{self.tier}: {first}{self.price}"


class TariffTier(models.Model):
    """A price tier chosen by the balance: the highest tier whose ``min_balance``
    the balance reaches applies (the tariffs page's balance slider).  Staff can
    pin an account to a tier with ``Account.tariff_tier``."""

    tier = models.PositiveSmallIntegerField(_("ступень"), unique=True)
    min_balance = models.DecimalField(
        _("баланс от, ₽"), max_digits=14, decimal_places=2, unique=True
    )

    class Meta:
        ordering = ["min_balance"]
        verbose_name = _("тарифная ступень")
        verbose_name_plural = _("тарифные ступени")

    def __str__(self):
        return f"t{self.tier} ≥ {self.min_balance} ₽"


class Requisites(models.Model):
    """The client's organisation details for invoices and acts (Документы →
    Реквизиты).  Validated by billing.validators."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="requisites"
    )
    organisation = models.CharField(_("Наименование организации"), max_length=300)
    inn = models.CharField(_("ИНН"), max_length=12)
    kpp = models.CharField(_("КПП"), max_length=9, blank=True)
    ogrn = models.CharField(_("ОГРН/ОГРНИП"), max_length=15, blank=True)
    legal_address = models.CharField(_("Юридический адрес"), max_length=500)
    postal_address = models.CharField(_("Почтовый адрес"), max_length=500, blank=True)
    bank_name = models.CharField(_("Банк"), max_length=300)
    bic = models.CharField(_("БИК"), max_length=9)
    settlement_account = models.CharField(_("Расчётный счёт"), max_length=20)
    correspondent_account = models.CharField(_("Корреспондентский счёт"), max_length=20)
    director = models.CharField(_("Руководитель"), max_length=200, blank=True)
    email = models.EmailField(_("Email для документов"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("реквизиты")
        verbose_name_plural = _("реквизиты")

    def __str__(self):
        return f"{self.organisation} (ИНН {self.inn})"

    def snapshot(self) -> dict:
        fields = [
            "organisation",
            "inn",
            "kpp",
            "ogrn",
            "legal_address",
            "postal_address",
            "bank_name",
            "bic",
            "settlement_account",
            "correspondent_account",
            "director",
            "email",
        ]
        return {f: getattr(self, f) for f in fields}


class Invoice(models.Model):
    """A bill for bank transfer.  Paid by staff in the admin, which credits the
    balance once (ledger reference ``invoice:<id>``)."""

    class Status(models.TextChoices):
        UNPAID = "unpaid", _("Не оплачено")
        PAID = "paid", _("Оплачено")
        CANCELLED = "cancelled", _("Отменён")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(_("№ счёта"), max_length=20, unique=True)
    amount = models.DecimalField(_("Сумма счёта"), max_digits=14, decimal_places=2)
    status = models.CharField(
        _("Статус"), max_length=16, choices=Status.choices, default=Status.UNPAID
    )
    # The requisites as they were when the invoice was issued.
    payer = models.JSONField(_("Реквизиты"), default=dict)
    created_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("Дата"), default=timezone.now)
    paid_at = models.DateTimeField(_("оплачен"), null=True, blank=True)
    paid_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("счёт")
        verbose_name_plural = _("счета")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="invoice_positive"
            ),
        ]

    def __str__(self):
        return f"Счёт № {self.number} на {self.amount} ₽"


class Payment(models.Model):
    """A card or e-wallet payment through the acquirer.  ``token`` identifies the
    payment at the acquirer (its hosted page and its callbacks)."""

    class Method(models.TextChoices):
        CARD = "card", _("Банковская карта")
        WALLET = "wallet", _("Электронный кошелёк")

    class Status(models.TextChoices):
        PENDING = "pending", _("Ожидает оплаты")
        SUCCEEDED = "succeeded", _("Оплачен")
        FAILED = "failed", _("Отклонён")
        REFUNDED = "refunded", _("Возвращён")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="payments"
    )
    method = models.CharField(_("Способ"), max_length=16, choices=Method.choices)
    wallet = models.CharField(_("Кошелёк"), max_length=16, blank=True)
    amount = models.DecimalField(_("Сумма"), max_digits=14, decimal_places=2)
    status = models.CharField(
        _("Статус"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    acquirer_txn = models.CharField(_("Транзакция эквайера"), max_length=64, blank=True)
    card_mask = models.CharField(_("Карта"), max_length=24, blank=True)
    error = models.CharField(_("Причина отказа"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("Дата"), default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("платёж")
        verbose_name_plural = _("платежи")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_positive"
            ),
        ]

    def __str__(self):
        return f"Платёж #{self.pk} {self.amount} ₽ ({self.get_status_display()})"


class AcquirerCallback(models.Model):
    """Every callback the acquirer sent us, verified or not (an audit trail; a
    replayed callback is recorded and changes nothing)."""

    payment = models.ForeignKey(
        Payment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    body = models.TextField()
    signature_ok = models.BooleanField(default=False)
    result = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("уведомление эквайера")
        verbose_name_plural = _("уведомления эквайера")

    def __str__(self):
        return f"{self.created_at:%d.%m.%Y %H:%M} {self.result}"
