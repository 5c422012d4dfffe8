"""The only way money moves.  Every change of ``Account.balance`` goes through
``ledger_post``, which writes the entry and the balance in one transaction under
a row lock on the account, then fires the entry's side effects (low-balance
crossing, the ``billing.signals.ledger_posted`` signal).  Its one compiled
form, ``LEDGER_CHARGE_SQL``, serves a statement that charges in SQL; that
caller fires the same side effects through ``ledger_announce``.  Payments,
invoices and requisites live here too."""

import hashlib
import hmac
import json
import logging
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cabinet.formats import amount_ru, money_ru
from cabinet.models import Account, Notification
from cabinet.notifications import notify

from .models import (
    AcquirerCallback,
    Invoice,
    LedgerEntry,
    LedgerKind,
    Payment,
    Requisites,
)
from .signals import ledger_posted

log = logging.getLogger(__name__)


class InsufficientFunds(Exception):
    def __init__(self, needed: Decimal, available: Decimal):
        self.needed = needed
        self.available = available
        super().__init__(
            f"Недостаточно средств: нужно {money_ru(needed)}, "
            f"доступно {money_ru(available)}"
        )


class DuplicateEntry(Exception):
    """An entry with the same (kind, reference) already exists."""


class BillingError(Exception):
    """A business error with a message for the user (in Russian)."""


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
    service: str = "",
) -> LedgerEntry:
    """Post one entry and move the balance.  Debits (negative amounts) that would
    take the balance below ``-credit_limit`` raise ``InsufficientFunds`` unless
    ``allow_negative`` (used for corrections by staff).  A repeated ``reference``
    for the same kind raises ``DuplicateEntry`` and changes nothing.
    ``service`` (a channel's service code, ``billing.catalog``) groups charges
    in "services rendered" and partner rewards."""
    amount = _quantize(amount)
    if amount == 0:
        raise ValueError("zero ledger entry")
    with transaction.atomic():
        account = (
            Account.objects.select_for_update()
            .only("id", "balance", "credit_limit", "low_balance_threshold")
            .get(pk=account_id)
        )
        new_balance = account.balance + amount
        if amount < 0 and not allow_negative and new_balance < -account.credit_limit:
            raise InsufficientFunds(-amount, account.balance + account.credit_limit)
        entry = LedgerEntry(
            account_id=account_id,
            amount=amount,
            kind=kind,
            reason=reason[:300],
            reference=reference,
            service=service[:16],
            balance_after=new_balance,
            created_by=created_by,
        )
        if reference:
            # The unique (account, kind, reference) constraint is the guard; the
            # savepoint keeps the outer transaction usable after a duplicate.
            try:
                with transaction.atomic():
                    entry.save(force_insert=True)
            except IntegrityError as exc:
                raise DuplicateEntry(reference) from exc
        else:
            entry.save(force_insert=True)
        Account.objects.filter(pk=account_id).update(balance=F("balance") + amount)
        _posted(entry, old=account.balance, threshold=account.low_balance_threshold)
    return entry


def ledger_announce(
    *, entry: LedgerEntry, balance_before: Decimal, low_balance_threshold
) -> None:
    """The side effects of a ledger entry — the low-balance crossing and the
    ``ledger_posted`` signal — for an entry a compiled statement wrote
    (``LEDGER_CHARGE_SQL``): they fire exactly as for ``ledger_post``."""
    _posted(
        entry,
        old=balance_before,
        threshold=low_balance_threshold,
    )


def _posted(entry: LedgerEntry, *, old: Decimal, threshold) -> None:
    notify_balance_crossing(
        account_id=entry.account_id,
        threshold=threshold,
        old=old,
        new=entry.balance_after,
    )
    ledger_posted.send(sender=LedgerEntry, entry=entry, balance_before=old)


# ``ledger_post``'s charge, compiled for a statement that decides a charge in
# SQL (``messaging.instant``): it needs a CTE ``go(id, cost)`` (the account and
# the amount to take) and names the extra FROM items that must exist for the
# charge to happen, the entry's reason, reference and service as SQL; it takes
# the account row, checks ``balance - amount >= -credit_limit`` under the lock
# (the rule ``ledger_post`` applies), moves the balance and writes the entry.
# The caller announces the entry with ``ledger_announce`` after commit.
LEDGER_CHARGE_SQL = """
charged AS (
    UPDATE cabinet_account a
    SET balance = a.balance - round(go.cost, 2)
    FROM go{requires}
    WHERE a.id = go.id AND a.balance - round(go.cost, 2) >= -a.credit_limit
    RETURNING a.id, a.balance AS new_balance, a.low_balance_threshold
), ledger AS (
    INSERT INTO billing_ledgerentry (
        account_id, amount, kind, reason, reference, service, balance_after,
        created_by_id, created_at
    )
    SELECT charged.id, -round(go.cost, 2), 'charge', left({reason}, 300),
           {reference}, {service}, charged.new_balance, NULL, {now}
    FROM charged, go{requires}
    WHERE round(go.cost, 2) > 0
    RETURNING id, amount, reason, reference, created_at
)"""


def ledger_charge_sql(
    *, requires: str, reason: str, reference: str, service: str, now: str
) -> str:
    """``LEDGER_CHARGE_SQL`` for one statement (see there)."""
    return LEDGER_CHARGE_SQL.format(
        requires="".join(f", {name}" for name in requires.split()),
        reason=reason,
        reference=reference,
        service=service,
        now=now,
    )


def notify_balance_crossing(
    *, account_id: int, threshold: Decimal | None, old: Decimal, new: Decimal
) -> None:
    """Raise the critical-balance notification once per downward crossing.
    ``old`` is read under the account's row lock (or returned by the statement
    that moved the balance), so concurrent charges see consecutive balances
    and exactly one of them crosses the threshold."""
    if threshold is None or not (old >= threshold > new):
        return
    notify(
        account_id=account_id,
        kind=Notification.Kind.BALANCE,
        title=f"Баланс ниже критического порога {money_ru(threshold)}",
        body=f"Текущий баланс: {money_ru(new)}. Пополните счёт, чтобы рассылки "
        "не остановились.",
        url=reverse("billing:pay"),
    )


def account_credit(
    *,
    account_id: int,
    amount: Decimal,
    reason: str,
    created_by=None,
    kind: str = LedgerKind.TOPUP,
    reference: str = "",
) -> LedgerEntry:
    """Credit an account (top-up by staff, payment, bonus)."""
    if Decimal(amount) <= 0:
        raise ValueError("credit must be positive")
    return ledger_post(
        account_id=account_id,
        amount=amount,
        kind=kind,
        reason=reason,
        reference=reference,
        created_by=created_by,
    )


# --- requisites and invoices (M6, M3) -----------------------------------------


def requisites_save(*, account: Account, data: dict) -> Requisites:
    """Create or update the account's requisites (already validated by the form)."""
    obj, _created = Requisites.objects.update_or_create(account=account, defaults=data)
    return obj


MAX_PAYMENT = Decimal("10000000")


def _check_amount(amount) -> Decimal:
    try:
        amount = _quantize(amount)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise BillingError(_("Неверная сумма.")) from exc
    if amount < Decimal("10"):
        raise BillingError(_("Минимальная сумма — 10 ₽."))
    if amount > MAX_PAYMENT:
        raise BillingError(_("Сумма слишком велика."))
    return amount


def invoice_create(*, account: Account, amount: Decimal, created_by=None) -> Invoice:
    """Issue an invoice for bank transfer.  Requires the account's requisites."""
    amount = _check_amount(amount)
    requisites = Requisites.objects.filter(account=account).first()
    if requisites is None:
        raise BillingError(_("Сначала заполните реквизиты в разделе «Документы»."))
    with transaction.atomic():
        invoice = Invoice.objects.create(
            account=account,
            number=f"tmp-{secrets.token_hex(6)}",
            amount=amount,
            payer=requisites.snapshot(),
            created_by=created_by,
        )
        invoice.number = f"{invoice.created_at:%y}-{invoice.pk:06d}"
        Invoice.objects.filter(pk=invoice.pk).update(number=invoice.number)
    return invoice


def invoice_mark_paid(*, invoice_id: int, staff_user=None) -> bool:
    """Staff record that the bank transfer arrived: credits the balance once
    (reference ``invoice:<id>``).  Returns False when it was already paid."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        if invoice.status == Invoice.Status.PAID:
            return False
        if invoice.status == Invoice.Status.CANCELLED:
            raise BillingError(_("Счёт отменён."))
        try:
            ledger_post(
                account_id=invoice.account_id,
                amount=invoice.amount,
                kind=LedgerKind.PAYMENT,
                reason=f"Оплата по счёту № {invoice.number}",
                reference=f"invoice:{invoice.pk}",
                created_by=staff_user,
            )
        except DuplicateEntry:
            pass  # credited earlier; only the status was lost — fix the status
        Invoice.objects.filter(pk=invoice.pk).update(
            status=Invoice.Status.PAID, paid_at=timezone.now(), paid_by=staff_user
        )
        notify(
            account_id=invoice.account_id,
            kind=Notification.Kind.PAYMENT,
            title=f"Счёт № {invoice.number} оплачен",
            body=f"На баланс зачислено {money_ru(invoice.amount)}.",
            url=reverse("billing:documents"),
            # "Об этом Вам придет уведомительное SMS": to the owners' phones.
            text=f"Оплата по счёту № {invoice.number} зачислена: "
            f"{amount_ru(invoice.amount)} руб.",
        )
    return True


def invoice_cancel(*, invoice: Invoice) -> None:
    Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.UNPAID).update(
        status=Invoice.Status.CANCELLED
    )


# --- card and e-wallet payments through the acquirer (M3) -------------------------


def payment_create(
    *, account: Account, amount, method: str, wallet: str = "", created_by=None
) -> Payment:
    """A pending payment; the user is sent to the acquirer's page to pay it."""
    from .acquirer import card_payments_enabled

    if not card_payments_enabled():
        raise BillingError(CARD_PAYMENTS_OFF)
    amount = _check_amount(amount)
    if method not in Payment.Method.values:
        raise BillingError(_("Неизвестный способ оплаты."))
    return Payment.objects.create(
        account=account,
        amount=amount,
        method=method,
        wallet=wallet[:16],
        token=secrets.token_urlsafe(24),
        created_by=created_by,
    )


CARD_PAYMENTS_OFF = gettext_lazy(
    "Оплата картой и электронными кошельками не подключена. Выставьте счёт."
)


def callback_secret() -> bytes:
    return settings.BILLING_ACQUIRER_SECRET.encode()


def callback_sign(body: bytes) -> str:
    return hmac.new(callback_secret(), body, hashlib.sha256).hexdigest()


class CallbackRejected(Exception):
    """The callback is not valid (bad signature, unknown payment, bad data)."""


def payment_callback_process(*, body: bytes, signature: str) -> str:
    """Apply a server-to-server notification from the acquirer.

    The body is JSON ``{"token", "status": "succeeded"|"failed"|"refunded",
    "amount", "transaction", "card_mask"?, "error"?}`` signed with HMAC-SHA256 of
    the settings secret.  Idempotent: a repeated or late callback changes
    nothing (the ledger reference ``payment:<id>`` makes a double credit
    impossible).  Returns what happened ("credited", "duplicate"…).  With card
    payments turned off every callback is rejected."""
    from .acquirer import card_payments_enabled

    ok = (
        card_payments_enabled()
        and bool(signature)
        and hmac.compare_digest(callback_sign(body), signature or "")
    )
    record = AcquirerCallback.objects.create(
        body=body.decode("utf-8", "replace")[:10000], signature_ok=ok
    )
    if not ok:
        record.result = "bad_signature"
        record.save(update_fields=["result"])
        raise CallbackRejected("bad signature")
    try:
        data = json.loads(body)
        token = str(data["token"])
        status = str(data["status"])
        amount = _quantize(str(data["amount"]))
    except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
        record.result = "malformed"
        record.save(update_fields=["result"])
        raise CallbackRejected("malformed body") from exc
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(token=token).first()
        if payment is None or payment.amount != amount:
            result = "unknown_payment" if payment is None else "amount_mismatch"
            AcquirerCallback.objects.filter(pk=record.pk).update(
                payment=payment, result=result
            )
            raise CallbackRejected(result)
        result = _payment_apply(payment, status=status, data=data)
        AcquirerCallback.objects.filter(pk=record.pk).update(
            payment=payment, result=result
        )
    return result


def _payment_reason(payment: Payment, mask: str) -> str:
    how = (
        "банковской картой"
        if payment.method == Payment.Method.CARD
        else "через электронный кошелёк"
    )
    return f"Оплата {how}{' ' + mask if mask else ''} (платёж #{payment.pk})"


def _payment_apply(payment: Payment, *, status: str, data: dict) -> str:
    """Call under a row lock on the payment."""
    S = Payment.Status
    now = timezone.now()
    txn = str(data.get("transaction", ""))[:64]
    if status == "succeeded":
        # A payment we gave up waiting for can still succeed at the acquirer:
        # the money was taken, so it is credited.
        expired = payment.status == S.FAILED and payment.error == PAYMENT_EXPIRED
        if payment.status != S.PENDING and not expired:
            return "duplicate"
        try:
            ledger_post(
                account_id=payment.account_id,
                amount=payment.amount,
                kind=LedgerKind.PAYMENT,
                reason=_payment_reason(payment, str(data.get("card_mask", ""))),
                reference=f"payment:{payment.pk}",
            )
        except DuplicateEntry:
            return "duplicate"
        Payment.objects.filter(pk=payment.pk).update(
            status=S.SUCCEEDED,
            paid_at=now,
            acquirer_txn=txn,
            card_mask=str(data.get("card_mask", ""))[:24],
        )
        notify(
            account_id=payment.account_id,
            kind=Notification.Kind.PAYMENT,
            title=f"Баланс пополнен на {money_ru(payment.amount)}",
            body=f"Платёж #{payment.pk} ({payment.get_method_display()}) зачислен.",
            url=reverse("billing:ledger"),
            text=f"Баланс пополнен на {amount_ru(payment.amount)} руб. "
            f"(платёж #{payment.pk}).",
        )
        return "credited"
    if status == "failed":
        if payment.status != S.PENDING:
            return "duplicate"
        Payment.objects.filter(pk=payment.pk).update(
            status=S.FAILED,
            acquirer_txn=txn,
            error=str(data.get("error", ""))[:300],
            card_mask=str(data.get("card_mask", ""))[:24],
        )
        return "failed"
    if status == "refunded":
        if payment.status == S.REFUNDED:
            return "duplicate"
        if payment.status != S.SUCCEEDED:
            return "ignored"
        # The acquirer already returned the money, so the debit may take the
        # balance below zero: the ledger must follow reality.
        ledger_post(
            account_id=payment.account_id,
            amount=-payment.amount,
            kind=LedgerKind.PAYMENT_REFUND,
            reason=f"Возврат платежа #{payment.pk}",
            reference=f"payment:{payment.pk}",
            allow_negative=True,
        )
        Payment.objects.filter(pk=payment.pk).update(status=S.REFUNDED, refunded_at=now)
        notify(
            account_id=payment.account_id,
            kind=Notification.Kind.PAYMENT,
            title=f"Возврат платежа #{payment.pk}",
            body=f"Сумма {money_ru(payment.amount)} возвращена на карту/кошелёк.",
        )
        return "refunded"
    return "ignored"


PAYMENT_EXPIRED = "Срок оплаты истёк"


def payments_expire(*, older_than: timedelta = timedelta(hours=24)) -> int:
    """Give up on payments left on the acquirer's page (the user closed it):
    they become failed; a late success callback still credits them."""
    return Payment.objects.filter(
        status=Payment.Status.PENDING, created_at__lt=timezone.now() - older_than
    ).update(status=Payment.Status.FAILED, error=PAYMENT_EXPIRED)


def payment_refund(*, payment: Payment) -> None:
    """Ask the acquirer to return a successful payment; the ledger follows its
    callback.  Refused when the balance no longer holds the payment's amount."""
    from .acquirer import card_payments_enabled, get_acquirer

    if not card_payments_enabled():
        raise BillingError(CARD_PAYMENTS_OFF)
    payment.refresh_from_db()
    if payment.status != Payment.Status.SUCCEEDED:
        raise BillingError(_("Вернуть можно только оплаченный платёж."))
    balance = Account.objects.values_list("balance", flat=True).get(
        pk=payment.account_id
    )
    if balance < payment.amount:
        raise BillingError(_("На балансе меньше суммы платежа — возврат невозможен."))
    get_acquirer().refund(token=payment.token)
