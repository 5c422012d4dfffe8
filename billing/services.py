"""The only way money moves.  Every change of ``Account.balance`` goes through
``ledger_post``, which writes the entry and the balance in one transaction under
a row lock on the account."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from cabinet.models import Account

from .models import LedgerEntry, LedgerKind


class InsufficientFunds(Exception):
    def __init__(self, needed: Decimal, available: Decimal):
        self.needed = needed
        self.available = available
        super().__init__(f"Недостаточно средств: нужно {needed} ₽, доступно {available} ₽")


class DuplicateEntry(Exception):
    """An entry with the same (kind, reference) already exists."""


def _quantize(amount) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.01"))


def ledger_post(
    *,
    account_id: int,
    amount: Decimal,
    kind: str,
    reason: str,
    reference: str = "",
    created_by=None,
    allow_negative: bool = False,
) -> LedgerEntry:
    """Post one entry and move the balance.  Debits (negative amounts) that would
    take the balance below ``-credit_limit`` raise ``InsufficientFunds`` unless
    ``allow_negative`` (used for corrections by staff).  A repeated ``reference``
    for the same kind raises ``DuplicateEntry`` and changes nothing."""
    amount = _quantize(amount)
    if amount == 0:
        raise ValueError("zero ledger entry")
    with transaction.atomic():
        account = Account.objects.select_for_update().only(
            "id", "balance", "credit_limit", "low_balance_threshold"
        ).get(pk=account_id)
        new_balance = account.balance + amount
        if amount < 0 and not allow_negative and new_balance < -account.credit_limit:
            raise InsufficientFunds(-amount, account.balance + account.credit_limit)
        if reference and LedgerEntry.objects.filter(
            account_id=account_id, kind=kind, reference=reference
        ).exists():
            raise DuplicateEntry(reference)
        try:
            with transaction.atomic():
                entry = LedgerEntry.objects.create(
                    account_id=account_id,
                    amount=amount,
                    kind=kind,
                    reason=reason[:300],
                    reference=reference,
                    balance_after=new_balance,
                    created_by=created_by,
                )
        except IntegrityError as exc:
            raise DuplicateEntry(reference) from exc
        Account.objects.filter(pk=account_id).update(balance=F("balance") + amount)
        _after_balance_change(account, old=account.balance, new=new_balance)
    return entry


def _after_balance_change(account: Account, *, old: Decimal, new: Decimal) -> None:
    """Raise the critical-balance notification once per downward crossing."""
    threshold = account.low_balance_threshold
    if threshold is None or not (old >= threshold > new):
        return
    from cabinet.services import notification_create

    notification_create(
        account_id=account.pk,
        kind="balance",
        title=f"Баланс ниже критического порога {threshold} ₽",
        body=f"Текущий баланс: {new} ₽. Пополните счёт, чтобы рассылки не остановились.",
    )


def account_credit(*, account_id: int, amount: Decimal, reason: str, created_by=None,
                   kind: str = LedgerKind.TOPUP, reference: str = "") -> LedgerEntry:
    """Credit an account (top-up by staff, payment, bonus)."""
    if Decimal(amount) <= 0:
        raise ValueError("credit must be positive")
    return ledger_post(
        account_id=account_id, amount=amount, kind=kind, reason=reason,
        reference=reference, created_by=created_by,
    )
