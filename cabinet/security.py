"""Sign-in security (Настройки → Безопасность): two-step sign-in by an SMS code,
cabinet access only from listed IPs, ending a session when its IP changes."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import ratelimit
from .models import LoginCode, User
from .net import ip_allowed
from .notifications import DeliveryError, send_service_text

SESSION_PENDING_USER = "two_factor_user_id"
SESSION_PENDING_BACKEND = "two_factor_backend"


class CodeError(Exception):
    """A sign-in code could not be sent or was not accepted (message in Russian)."""


class CodeThrottled(CodeError):
    """Too many wrong codes for this user or address: not checked at all."""


# --- brute force: failures per account and per address, with back-off ----------


def signin_limits(*, step: str, who: str, ip: str | None) -> list[ratelimit.Limit]:
    """The counters of one sign-in ``step`` ("password": ``who`` is the e-mail
    as typed, whether or not such a user exists; "code": the user's id)."""
    ident = hashlib.sha256(who.strip().lower().encode()).hexdigest()[:32]
    per_account = (
        settings.SIGNIN_CODE_FAILURES_PER_USER
        if step == "code"
        else settings.SIGNIN_FAILURES_PER_ACCOUNT
    )
    limits = [ratelimit.Limit(f"signin:{step}:account:{ident}", per_account)]
    if ip:
        limits.append(
            ratelimit.Limit(f"signin:{step}:ip:{ip}", settings.SIGNIN_FAILURES_PER_IP)
        )
    return limits


def signin_reserve(limits: list[ratelimit.Limit]) -> str:
    """Count an attempt before checking anything; "" when allowed, else the
    message to show (the same whatever was typed: a locked account says
    nothing about the password)."""
    wait = ratelimit.reserve(limits, settings.SIGNIN_THROTTLE_WINDOW)
    if wait is None:
        return ""
    return _("Слишком много неудачных попыток входа. Повторите через %(n)s мин.") % {
        "n": ratelimit.minutes(wait)
    }


def signin_failed(limits: list[ratelimit.Limit]) -> None:
    """The attempt counts; a counter at its limit locks, each lock of the day
    twice as long as the one before."""
    ratelimit.penalise(limits, settings.SIGNIN_THROTTLE_WINDOW)


def signin_succeeded(limits: list[ratelimit.Limit]) -> None:
    """The attempt does not count, and the account's failures are forgotten
    (the address's stay: one's own account must not clear a guesser's)."""
    ratelimit.release(limits[1:])
    ratelimit.reset(limits[:1])


def _hash(code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256
    ).hexdigest()


def account_ip_allowed(user: User, ip: str | None) -> bool:
    """True when the user's account does not restrict sign-in by IP or ``ip`` is
    listed.  Staff (no account) are not restricted here."""
    if not user.account_id:
        return True
    return ip_allowed(ip, user.account.allowed_ip_list())


def login_code_send(*, user: User, ip: str | None = None) -> LoginCode:
    """Generate a 6-digit code, store its hash and send it as a free service
    text (``cabinet.notifications``: the SMS transport messaging registers, so
    through the normal pipeline).  Rate-limited per user."""
    if not user.phone:
        raise CodeError(_("В профиле не указан телефон для кода."))
    limit, window = settings.LOGIN_CODE_RATE
    since = timezone.now() - timedelta(seconds=window)
    with transaction.atomic():
        # Serialise code requests of one user so the rate limit holds under
        # concurrent requests.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if LoginCode.objects.filter(user=user, created_at__gte=since).count() >= limit:
            raise CodeError(
                _("Слишком много запросов кода. Попробуйте через несколько минут.")
            )
        code = f"{secrets.randbelow(10**6):06d}"
        now = timezone.now()
        # A new code replaces the previous ones.
        LoginCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        row = LoginCode.objects.create(
            user=user,
            code_hash=_hash(code),
            ip=ip or None,
            expires_at=now + timedelta(seconds=settings.LOGIN_CODE_TTL_SECONDS),
        )
    try:
        send_service_text(
            account=user.account,
            phone=user.phone,
            text=f"Код для входа в личный кабинет: {code}. Никому его не сообщайте.",
        )
    except DeliveryError as exc:
        raise CodeError(f"Не удалось отправить SMS с кодом: {exc.message}") from exc
    return row


def login_code_verify(*, user: User, code: str, ip: str | None = None) -> None:
    """Accept the latest unused, unexpired code once; count failed attempts (the
    count is committed even though the caller sees an error).  Wrong codes are
    also counted per user and per address across codes, with back-off: past
    the limit ``CodeThrottled`` is raised without looking at the code."""
    limits = signin_limits(step="code", who=str(user.pk), ip=ip)
    refused = signin_reserve(limits)
    if refused:
        raise CodeThrottled(refused)
    code = (code or "").strip()
    error = ""
    with transaction.atomic():
        row = (
            LoginCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            error = _("Код не запрошен или уже использован. Запросите новый код.")
        elif row.expires_at <= timezone.now():
            error = _("Срок действия кода истёк. Запросите новый код.")
        elif row.attempts >= settings.LOGIN_CODE_MAX_ATTEMPTS:
            error = _("Превышено число попыток. Запросите новый код.")
        elif not (code.isdigit() and hmac.compare_digest(row.code_hash, _hash(code))):
            LoginCode.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
            left = settings.LOGIN_CODE_MAX_ATTEMPTS - row.attempts - 1
            error = _("Неверный код. Осталось попыток: %(n)d.") % {"n": left}
        else:
            LoginCode.objects.filter(pk=row.pk).update(used_at=timezone.now())
    if error:
        signin_failed(limits)
        raise CodeError(error)
    signin_succeeded(limits)


# --- settings writes (Настройки) ---------------------------------------------------


class SettingsError(Exception):
    """A settings change that is not allowed (message in Russian)."""


def cabinet_user_add(
    *, account, email: str, password: str, role: str, full_name: str = ""
) -> User:
    return User.objects.create_user(
        email=email, password=password, account=account, role=role, full_name=full_name
    )


def _other_owners(account, user: User) -> bool:
    from .models import Role

    return (
        User.objects.filter(account=account, role=Role.OWNER, is_active=True)
        .exclude(pk=user.pk)
        .exists()
    )


def cabinet_user_remove(*, account, user_id: int, by: User) -> None:
    """Remove a cabinet user of this account (never yourself, never the last
    owner).  A foreign id is not found."""
    from django.shortcuts import get_object_or_404

    with transaction.atomic():
        target = get_object_or_404(
            User.objects.select_for_update(), pk=user_id, account=account
        )
        if target.pk == by.pk:
            raise SettingsError(_("Нельзя удалить самого себя."))
        if target.role == "owner" and not _other_owners(account, target):
            raise SettingsError(_("Нельзя удалить последнего владельца."))
        target.delete()


def cabinet_user_role_set(*, account, user_id: int, role: str, by: User) -> User:
    from django.shortcuts import get_object_or_404

    with transaction.atomic():
        target = get_object_or_404(
            User.objects.select_for_update(), pk=user_id, account=account
        )
        if (
            target.role == "owner"
            and role != "owner"
            and not _other_owners(account, target)
        ):
            raise SettingsError(_("В аккаунте должен остаться хотя бы один владелец."))
        target.role = role
        target.save(update_fields=["role"])
    return target


def security_save(
    *,
    user: User,
    two_factor: bool,
    phone: str,
    allowed_ips: str | None = None,
    bind_session_ip: bool | None = None,
    current_ip: str | None = None,
) -> None:
    """Save the user's two-step setting and (for those allowed) the account's
    sign-in restrictions.  Refuses an IP list that would lock out the very
    user saving it."""
    from .models import Account

    with transaction.atomic():
        if allowed_ips is not None:
            listed = [x for x in allowed_ips.splitlines() if x.strip()]
            if listed and not ip_allowed(current_ip, listed):
                raise SettingsError(
                    f"Ваш текущий IP-адрес {current_ip or '—'} не входит в список — вы "
                    "потеряете доступ к кабинету. Добавьте его в список."
                )
            Account.objects.filter(pk=user.account_id).update(
                allowed_ips=allowed_ips, bind_session_ip=bool(bind_session_ip)
            )
        User.objects.filter(pk=user.pk).update(two_factor=two_factor, phone=phone)
