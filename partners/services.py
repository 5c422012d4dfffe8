"""Partnership rules: attribution at sign-up, rewards from the ledger,
withdrawals and moves to the own balance.  Money moves only through
``billing.services.ledger_post``."""

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import LedgerEntry, LedgerKind
from billing.services import ledger_post
from cabinet.models import Account
from cabinet.moderation import Decision

from .models import (
    MIN_WITHDRAWAL,
    Partner,
    Referral,
    Reward,
    RewardRate,
    Withdrawal,
    new_code,
)

COOKIE = "partner_ref"
COOKIE_SALT = "partners.referral"
COOKIE_MAX_AGE = 60 * 60 * 24 * 90
# A refund reverses a reward for this long after the service's window closed
# (a charge inside the window may be refunded a little later).
REFUND_GRACE = timedelta(days=3)
MAX_WITHDRAWAL = Decimal("10000000")


class PartnerError(ValueError):
    """A refused partner operation; the message is for the user."""


# --- the referral link ---------------------------------------------------------


def partner_for(*, account: Account) -> Partner:
    """The account's partner side, with its code (made once)."""
    partner = Partner.objects.filter(account=account).first()
    if partner is not None:
        return partner
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Partner.objects.create(account=account, code=new_code())
        except IntegrityError:
            partner = Partner.objects.filter(account=account).first()
            if partner is not None:
                return partner
    raise RuntimeError("could not make a unique referral code")


def cookie_value(code: str) -> str:
    return signing.get_cookie_signer(salt=COOKIE_SALT).sign(code)


def code_from_cookie(value: str | None) -> str | None:
    """The referral code in a signed cookie value, or None when it is
    missing, forged or too old."""
    if not value:
        return None
    try:
        return signing.get_cookie_signer(salt=COOKIE_SALT).unsign(
            value, max_age=COOKIE_MAX_AGE
        )
    except signing.BadSignature:
        return None


def attribute(*, client: Account, code: str | None) -> Referral | None:
    """Record that ``client`` came through the partner's ``code`` (at
    sign-up).  Nothing for an unknown code, a code of the client's own account,
    or a client already attributed."""
    if not code:
        return None
    partner = Partner.objects.filter(code=code).select_related("account").first()
    if partner is None or partner.account_id == client.pk:
        return None
    referral, _created = Referral.objects.get_or_create(
        client=client, defaults={"partner_id": partner.account_id}
    )
    return referral


# Whether an account was referred, cached: every charge of every account asks,
# and almost all were not.  Written at sign-up (``remember_referral``), dropped
# when a referral row changes (receivers), kept an hour at most.
REFERRAL_CACHE_SECONDS = 3600


def _referral_key(account_id: int) -> str:
    return f"partners:referred:{account_id}"


# "Not referred" is for good: a referral is made at sign-up only (``attribute``;
# the admin may view and delete referrals, never add or move one), so this
# process remembers it and every later charge of the account answers without
# a round trip (the JSON API's one-statement send pays for each one).
_NOT_REFERRED: set[int] = set()
_NOT_REFERRED_MAX = 200_000


def remember_referral(*, account_id: int, partner_id: int | None) -> None:
    cache.set(_referral_key(account_id), partner_id or 0, REFERRAL_CACHE_SECONDS)


def forget_referral(*, account_id: int) -> None:
    _NOT_REFERRED.discard(account_id)
    cache.delete(_referral_key(account_id))


def _not_referred(account_id: int) -> None:
    if len(_NOT_REFERRED) >= _NOT_REFERRED_MAX:
        _NOT_REFERRED.clear()
    _NOT_REFERRED.add(account_id)


def referral_of(account_id: int):
    """(partner id, the client's registration time) of a referred account, or
    None.  "Not referred" answers from this process's memory, else from the
    cache, without a query."""
    if account_id in _NOT_REFERRED:
        return None
    key = _referral_key(account_id)
    cached = cache.get(key)
    if cached == 0:
        _not_referred(account_id)
        return None
    ref = (
        Referral.objects.filter(client_id=account_id)
        .values_list("partner_id", "client__created_at")
        .first()
    )
    if cached is None:
        cache.set(key, ref[0] if ref else 0, REFERRAL_CACHE_SECONDS)
    if ref is None:
        _not_referred(account_id)
    return ref


# --- rewards from the ledger ---------------------------------------------------


def reward_for_entry(entry: LedgerEntry) -> Reward | None:
    """The partner's reward for one ledger entry of a referred client (a
    charge accrues, a refund reverses), or None.  Called for every entry
    (``billing.signals.ledger_posted``), so it leaves at once for the rest."""
    if entry.kind not in (LedgerKind.CHARGE, LedgerKind.REFUND) or not entry.service:
        return None
    ref = referral_of(entry.account_id)
    if ref is None:
        return None
    partner_id, registered_at = ref
    rate = RewardRate.objects.filter(service=entry.service).first()
    if rate is None or rate.percent <= 0:
        return None
    window_end = registered_at + timedelta(days=rate.days)
    percent = rate.percent
    amount = -entry.amount * percent / Decimal(100)
    if entry.kind == LedgerKind.CHARGE:
        if entry.created_at > window_end or amount <= 0:
            return None
    else:
        if entry.created_at > window_end + REFUND_GRACE:
            return None
        # A refund reverses at the rate its charges earned, and never more
        # than the client's rewards for the service.
        last = (
            Reward.objects.filter(
                client_id=entry.account_id, service=entry.service, amount__gt=0
            )
            .order_by("-id")
            .values_list("percent", flat=True)
            .first()
        )
        if last is None:
            return None
        percent = last
        amount = -entry.amount * percent / Decimal(100)
        earned = Reward.objects.filter(
            client_id=entry.account_id, service=entry.service
        ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        amount = -min(-amount, earned)
        if amount >= 0:
            return None
    reward = Reward(
        entry_id=entry.pk,
        partner_id=partner_id,
        client_id=entry.account_id,
        service=entry.service,
        base=entry.amount,
        percent=percent,
        amount=amount,
        created_at=entry.created_at,
    )
    # One INSERT … ON CONFLICT DO NOTHING: an entry announced twice earns once.
    Reward.objects.bulk_create([reward], ignore_conflicts=True)
    return reward


# --- the reward balance and withdrawals ----------------------------------------


def _kopecks(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def reward_balance(*, account_id: int) -> Decimal:
    """The reward the partner can withdraw: rewards less withdrawals asked
    for or done, rounded down to kopecks."""
    earned = Reward.objects.filter(partner_id=account_id).aggregate(s=Sum("amount"))[
        "s"
    ] or Decimal(0)
    taken = Withdrawal.objects.filter(
        account_id=account_id, status__in=[Decision.PENDING, Decision.APPROVED]
    ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return _kopecks(earned - taken)


def _amount(raw) -> Decimal:
    try:
        amount = Decimal(str(raw).strip().replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError) as exc:
        raise PartnerError(_("Введите сумму числом, например 300 или 450.50.")) from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise PartnerError(_("Сумма — в рублях с точностью до копеек."))
    if amount > MAX_WITHDRAWAL:
        raise PartnerError(_("Сумма слишком велика."))
    return amount


def withdrawal_request(
    *,
    account: Account,
    user,
    amount,
    method: str = Withdrawal.Method.MANUAL,
    details: str = "",
) -> Withdrawal:
    """Ask for the reward: paid by hand after a staff decision (``manual``,
    at least 300 ₽), or moved to the account's balance at once (``balance``).
    Under the partner account's row lock, so two requests at once cannot both
    take the same reward.  ``PartnerError`` with nothing changed otherwise."""
    amount = _amount(amount)
    if method not in Withdrawal.Method.values:
        raise PartnerError(_("Неизвестный способ вывода."))
    details = (details or "").strip()
    if len(details) > 300:
        raise PartnerError(_("Реквизиты — не длиннее 300 символов."))
    if amount <= 0:
        raise PartnerError(_("Сумма должна быть больше нуля."))
    if method == Withdrawal.Method.MANUAL:
        if amount < MIN_WITHDRAWAL:
            raise PartnerError(
                _("Минимальная сумма вывода — %(min)s ₽.") % {"min": MIN_WITHDRAWAL}
            )
        if not details:
            raise PartnerError(_("Укажите реквизиты для выплаты."))
    with transaction.atomic():
        Account.objects.select_for_update().only("id").get(pk=account.pk)
        available = reward_balance(account_id=account.pk)
        if amount > available:
            raise PartnerError(
                _("Сумма больше доступного вознаграждения (%(a)s ₽).")
                % {"a": available}
            )
        row = Withdrawal.objects.create(
            account=account,
            amount=amount,
            method=method,
            details=details,
            requested_by=user,
        )
        if method == Withdrawal.Method.BALANCE:
            row.status = Decision.APPROVED
            row.decided_at = timezone.now()
            row.save(update_fields=["status", "decided_at"])
            ledger_post(
                account_id=account.pk,
                amount=amount,
                kind=LedgerKind.BONUS,
                reason=_("Перевод партнёрского вознаграждения на баланс (№ %(id)s)")
                % {"id": row.pk},
                reference=f"partner-withdrawal:{row.pk}",
                created_by=user,
            )
    return row


def rate_update(*, rate: RewardRate, percent, days) -> RewardRate:
    """Staff change a rate (new charges accrue at it)."""
    try:
        percent = Decimal(str(percent).replace(",", "."))
        days = int(str(days))
    except (InvalidOperation, ValueError) as exc:
        raise PartnerError(_("Процент и срок — числа.")) from exc
    if not percent.is_finite() or not (0 <= percent <= 100):
        raise PartnerError(_("Процент — от 0 до 100."))
    if percent != percent.quantize(Decimal("0.01")):
        raise PartnerError(_("Процент — не больше двух знаков после запятой."))
    if not (0 <= days <= 36500):
        raise PartnerError(_("Срок — от 0 до 36500 дней."))
    RewardRate.objects.filter(pk=rate.pk).update(percent=percent, days=days)
    rate.refresh_from_db()
    return rate
