"""What staff do in the console.  Every action is written to the audit log
(``AuditEntry``) in the transaction that does it; queue items are claimed
with ``SKIP LOCKED`` (``claim_next``) so two staff never take the same one,
and a decision on an item another staff member holds is refused."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Invoice, LedgerKind, TariffTier
from billing.services import BillingError, invoice_mark_paid, ledger_post
from cabinet import moderation
from cabinet.models import Account, ApiToken, Ticket
from cabinet.support import ticket_staff_reply
from messaging.compose import AdvertisingAnswerError, advertising_answer
from partners.services import PartnerError, rate_update

from .models import AuditEntry, Claim

CLAIM_TTL = timedelta(minutes=15)
MAX_ADJUSTMENT = Decimal("10000000")


class ConsoleError(ValueError):
    """A refused staff action; the message is for the staff member."""


def audit(
    *, staff, action: str, target: str, object_id=None, account_id=None, **details
) -> AuditEntry:
    return AuditEntry.objects.create(
        staff=staff,
        action=action,
        target=target,
        object_id=object_id,
        account_id=account_id,
        details={k: str(v) for k, v in details.items()},
    )


def _account_of(item) -> int | None:
    return getattr(item, "account_id", None)


# --- claims --------------------------------------------------------------------


def _fresh(now=None):
    return Q(claimed_at__gte=(now or timezone.now()) - CLAIM_TTL)


def holder(*, queue, object_id: int):
    """The staff member holding the item (a fresh claim), or None."""
    claim = (
        Claim.objects.filter(_fresh(), queue=queue.key, object_id=object_id)
        .select_related("staff")
        .first()
    )
    return claim.staff if claim else None


def claims(*, queue, ids) -> dict[int, object]:
    return {
        c.object_id: c.staff
        for c in Claim.objects.filter(
            _fresh(), queue=queue.key, object_id__in=ids
        ).select_related("staff")
    }


def claim_next(*, queue, staff):
    """Take the oldest pending item nobody else holds: the candidate rows are
    locked with ``FOR UPDATE SKIP LOCKED``, so a colleague claiming at the same
    moment gets the next one.  None when the queue is empty for this staff
    member."""
    now = timezone.now()
    with transaction.atomic():
        held = Claim.objects.filter(_fresh(now), queue=queue.key).exclude(staff=staff)
        item = (
            queue.pending()
            .exclude(pk__in=held.values("object_id"))
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if item is None:
            return None
        Claim.objects.update_or_create(
            queue=queue.key,
            object_id=item.pk,
            defaults={"staff": staff, "claimed_at": now},
        )
        audit(
            staff=staff,
            action="claim",
            target=queue.key,
            object_id=item.pk,
            account_id=_account_of(item),
        )
    return item


def _hold(*, queue, object_id: int, staff):
    """Inside a transaction: lock the item and make sure ``staff`` holds it
    (taking it when free).  ``ConsoleError`` when a colleague holds it."""
    item = (
        queue.model._default_manager.select_for_update(of=("self",))
        .filter(pk=object_id)
        .first()
    )
    if item is None:
        raise ConsoleError(_("Такой записи нет."))
    other = (
        Claim.objects.filter(_fresh(), queue=queue.key, object_id=object_id)
        .exclude(staff=staff)
        .select_related("staff")
        .first()
    )
    if other is not None:
        raise ConsoleError(
            _("Запись взял в работу другой сотрудник (%(who)s): решение не принято.")
            % {"who": other.staff.email}
        )
    Claim.objects.update_or_create(
        queue=queue.key,
        object_id=object_id,
        defaults={"staff": staff, "claimed_at": timezone.now()},
    )
    return item


def claim(*, queue, object_id: int, staff):
    """Take one item (opening it); ``ConsoleError`` when a colleague holds it."""
    with transaction.atomic():
        held = Claim.objects.filter(
            _fresh(), queue=queue.key, object_id=object_id, staff=staff
        ).exists()
        item = _hold(queue=queue, object_id=object_id, staff=staff)
        if held:  # already this staff member's: nothing new to log
            return item
        audit(
            staff=staff,
            action="claim",
            target=queue.key,
            object_id=object_id,
            account_id=_account_of(item),
        )
    return item


def release(*, queue, object_id: int, staff) -> None:
    with transaction.atomic():
        n, _d = Claim.objects.filter(
            queue=queue.key, object_id=object_id, staff=staff
        ).delete()
        if n:
            audit(staff=staff, action="release", target=queue.key, object_id=object_id)


def _done(queue, object_id):
    Claim.objects.filter(queue=queue.key, object_id=object_id).delete()


# --- decisions -----------------------------------------------------------------


def decide(
    *,
    queue,
    object_id: int,
    staff,
    approve: bool,
    reason: str = "",
    reason_text: str = "",
    comment: str = "",
):
    """Approve or reject a moderated item (``cabinet.moderation.decide``) the
    staff member holds or that is free."""
    try:
        with transaction.atomic():
            item = _hold(queue=queue, object_id=object_id, staff=staff)
            result = moderation.decide(
                item=item,
                approve=approve,
                reason=reason,
                reason_text=reason_text,
                comment=comment,
                staff_user=staff,
            )
            if not result.changed:
                raise ConsoleError(_("Решение по этой записи уже принято."))
            _done(queue, object_id)
            audit(
                staff=staff,
                action="approve" if approve else "reject",
                target=queue.key,
                object_id=object_id,
                account_id=_account_of(item),
                reason=result.item.reason_display,
                comment=comment,
            )
    except moderation.DecisionError as exc:
        raise ConsoleError(exc.message) from exc
    return result.item


def invoice_paid(*, queue, object_id: int, staff) -> Invoice:
    """Mark an invoice paid: billing credits the balance once."""
    try:
        with transaction.atomic():
            item = _hold(queue=queue, object_id=object_id, staff=staff)
            if not invoice_mark_paid(invoice_id=item.pk, staff_user=staff):
                raise ConsoleError(_("Счёт уже оплачен."))
            _done(queue, object_id)
            audit(
                staff=staff,
                action="invoice_paid",
                target=queue.key,
                object_id=object_id,
                account_id=item.account_id,
                amount=item.amount,
            )
    except BillingError as exc:
        raise ConsoleError(str(exc)) from exc
    return item


def ticket_answer(*, queue, object_id: int, staff, body: str) -> Ticket:
    body = (body or "").strip()
    if not body:
        raise ConsoleError(_("Напишите ответ."))
    if len(body) > 10000:
        raise ConsoleError(_("Ответ — не длиннее 10 000 символов."))
    with transaction.atomic():
        item = _hold(queue=queue, object_id=object_id, staff=staff)
        if item.status == Ticket.Status.CLOSED:
            raise ConsoleError(_("Обращение закрыто."))
        ticket_staff_reply(ticket=item, staff=staff, body=body)
        _done(queue, object_id)
        audit(
            staff=staff,
            action="ticket_answer",
            target=queue.key,
            object_id=object_id,
            account_id=item.account_id,
            body=body[:200],
        )
    return item


def advertising(*, queue, object_id: int, staff, status: str, comment: str):
    try:
        with transaction.atomic():
            item = _hold(queue=queue, object_id=object_id, staff=staff)
            row, changed = advertising_answer(
                request_id=item.pk, status=status, comment=comment, staff_user=staff
            )
            if not changed:
                raise ConsoleError(_("Ничего не изменилось."))
            if status not in ("new", "in_work"):
                _done(queue, object_id)
            audit(
                staff=staff,
                action="advertising_answer",
                target=queue.key,
                object_id=object_id,
                account_id=row.account_id,
                status=status,
                comment=comment[:200],
            )
    except AdvertisingAnswerError as exc:
        raise ConsoleError(str(exc)) from exc
    return row


# --- an account ----------------------------------------------------------------


def balance_adjust(*, account: Account, staff, amount, reason: str):
    """A correction of the balance by staff: a ledger entry with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ConsoleError(_("Укажите причину корректировки."))
    if len(reason) > 250:
        raise ConsoleError(_("Причина — не длиннее 250 символов."))
    try:
        amount = Decimal(str(amount).strip().replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError) as exc:
        raise ConsoleError(_("Сумма — число, например -150 или 200.50.")) from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ConsoleError(_("Сумма — в рублях с точностью до копеек."))
    if amount == 0:
        raise ConsoleError(_("Сумма не может быть нулевой."))
    if abs(amount) > MAX_ADJUSTMENT:
        raise ConsoleError(_("Сумма слишком велика."))
    with transaction.atomic():
        row = (
            Account.objects.select_for_update()
            .only("balance", "credit_limit")
            .get(pk=account.pk)
        )
        if row.balance + amount < -row.credit_limit:
            raise ConsoleError(
                _(
                    "Баланс не может стать меньше минус кредитного лимита "
                    "(%(limit)s ₽): сейчас %(balance)s ₽."
                )
                % {"limit": row.credit_limit, "balance": row.balance}
            )
        entry = ledger_post(
            account_id=account.pk,
            amount=amount,
            kind=LedgerKind.ADJUSTMENT,
            reason=_("Корректировка: %(r)s") % {"r": reason},
            created_by=staff,
            allow_negative=True,
        )
        audit(
            staff=staff,
            action="balance_adjust",
            target="account",
            object_id=account.pk,
            account_id=account.pk,
            amount=amount,
            reason=reason,
            entry=entry.pk,
        )
    return entry


def tier_set(*, account: Account, staff, tier) -> None:
    if tier in ("", None):
        value = None
    else:
        try:
            value = int(tier)
        except (TypeError, ValueError) as exc:
            raise ConsoleError(_("Неизвестная тарифная ступень.")) from exc
        if value != 0 and not TariffTier.objects.filter(tier=value).exists():
            raise ConsoleError(_("Неизвестная тарифная ступень."))
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(tariff_tier=value)
        audit(
            staff=staff,
            action="tier_set",
            target="account",
            object_id=account.pk,
            account_id=account.pk,
            tier=value,
        )


def block(*, account: Account, staff, blocked: bool, reason: str = "") -> None:
    reason = (reason or "").strip()
    if blocked and not reason:
        raise ConsoleError(_("Укажите причину блокировки."))
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(
            is_blocked=blocked, blocked_reason=reason[:200] if blocked else ""
        )
        audit(
            staff=staff,
            action="block" if blocked else "unblock",
            target="account",
            object_id=account.pk,
            account_id=account.pk,
            reason=reason,
        )


def token_revoke(*, account: Account, staff, token_id: int) -> None:
    with transaction.atomic():
        n = ApiToken.objects.filter(
            pk=token_id, account=account, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if not n:
            raise ConsoleError(_("Токен не найден или уже отозван."))
        audit(
            staff=staff,
            action="token_revoke",
            target="api_token",
            object_id=token_id,
            account_id=account.pk,
        )


def rate_change(*, rate, staff, percent, days):
    try:
        with transaction.atomic():
            before = (rate.percent, rate.days)
            rate = rate_update(rate=rate, percent=percent, days=days)
            audit(
                staff=staff,
                action="rate_update",
                target="partners.rewardrate",
                object_id=rate.pk,
                service=rate.service,
                before=before,
                after=(rate.percent, rate.days),
            )
    except PartnerError as exc:
        raise ConsoleError(str(exc)) from exc
    return rate
