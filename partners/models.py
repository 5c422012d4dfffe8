"""Partnership (manual section 8): a partner's referral code, the clients it
brought, the reward rates per service, the rewards read from the ledger and
the partner's withdrawal requests.

Money here is the partner's reward, not an account balance: rewards are kept at
six decimals (a percentage of a kopeck-exact charge), so the sum of a partner's
rewards equals the rate times the sum of its clients' charges exactly; the
available reward is that sum less withdrawals, rounded down to kopecks."""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import LedgerEntry
from cabinet.models import Account, Notification
from cabinet.moderation import Decidable, Decision, Notice

MIN_WITHDRAWAL = 300


def new_code() -> str:
    return secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")


class Partner(models.Model):
    """An account's partner side: its referral code (made on first look)."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="partner"
    )
    code = models.CharField(_("реферальный код"), max_length=16, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("партнёр")
        verbose_name_plural = _("партнёры")

    def __str__(self):
        return f"{self.account} ({self.code})"


class Referral(models.Model):
    """A client registered through a partner's link."""

    client = models.OneToOneField(
        Account,
        on_delete=models.CASCADE,
        related_name="referral",
        verbose_name=_("клиент"),
    )
    partner = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="referred",
        verbose_name=_("партнёр"),
    )
    created_at = models.DateTimeField(_("зарегистрирован"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("привлечённый клиент")
        verbose_name_plural = _("привлечённые клиенты")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(client=models.F("partner")),
                name="referral_not_self",
            )
        ]

    def __str__(self):
        return f"{self.client} ← {self.partner}"


class RewardRate(models.Model):
    """The manual's table: a percentage of a service's charges, paid for so
    many days from the client's registration.  Staff edit it."""

    service = models.CharField(_("код услуги"), max_length=16, unique=True)
    label = models.CharField(_("услуга"), max_length=100)
    percent = models.DecimalField(
        _("вознаграждение, %"), max_digits=5, decimal_places=2
    )
    days = models.PositiveIntegerField(_("дней с регистрации клиента"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("ставка вознаграждения")
        verbose_name_plural = _("ставки вознаграждения")

    def __str__(self):
        return f"{self.label}: {self.percent}%"


class Reward(models.Model):
    """The partner's share of one ledger entry of a referred client: positive
    for a charge, negative for a refund (the reversal)."""

    partner = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.CASCADE, related_name="+"
    )
    service = models.CharField(_("услуга"), max_length=16)
    # The client's ledger amount (a charge is negative).
    base = models.DecimalField(_("сумма операции"), max_digits=14, decimal_places=2)
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("вознаграждение"), max_digits=18, decimal_places=6)
    created_at = models.DateTimeField(_("дата"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-created_at"]),
            models.Index(fields=["client", "service"]),
        ]
        verbose_name = _("вознаграждение")
        verbose_name_plural = _("вознаграждения")

    def __str__(self):
        return f"{self.partner_id} ← {self.client_id}: {self.amount}"


class Withdrawal(Decidable):
    """A request to pay the reward out (processed by hand by staff), or a move
    of the reward to the partner's own balance (done at once)."""

    class Method(models.TextChoices):
        MANUAL = "manual", _("Ручной вывод")
        BALANCE = "balance", _("На баланс аккаунта")

    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("партнёр"),
    )
    amount = models.DecimalField(_("сумма"), max_digits=14, decimal_places=2)
    method = models.CharField(
        _("способ"), max_length=16, choices=Method.choices, default=Method.MANUAL
    )
    details = models.CharField(_("реквизиты для выплаты"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        "cabinet.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "status"])]
        verbose_name = _("заявка на вывод вознаграждения")
        verbose_name_plural = _("заявки на вывод вознаграждения")

    def __str__(self):
        return f"#{self.pk} {self.amount} ₽"

    def decision_notice(self):
        if self.status == Decision.APPROVED:
            title = _("Заявка на вывод вознаграждения #%(id)s одобрена")
        else:
            title = _("Заявка на вывод вознаграждения #%(id)s отклонена")
        body = self.reason_display if self.status == Decision.REJECTED else ""
        return Notice(
            title=str(title) % {"id": self.pk},
            body="\n".join(p for p in (body, self.comment) if p),
            url="/partners/withdrawals/",
            kind=Notification.Kind.INFO,
        )
