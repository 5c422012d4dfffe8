from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from .models import (
    Account,
    ApiToken,
    LoginEvent,
    Notification,
    Role,
    TokenScope,
    User,
    hash_token,
)
from .signals import account_created


class TokenCreated:
    """A new token: the model and the plain key (shown once, never stored)."""

    def __init__(self, token: ApiToken, key: str):
        self.token = token
        self.key = key


def account_create(
    *,
    email: str,
    password: str,
    name: str = "",
    full_name: str = "",
    phone: str = "",
    balance: Decimal | None = None,
    request=None,
) -> User:
    """Create an account and its owner, then announce it (``account_created``).
    ``request`` is the sign-up's request when a person registers (the apps
    above read what they need from it, e.g. partners their referral cookie).
    A starting balance is credited by billing's receiver through the ledger,
    never written here; with nobody to take it the whole creation fails."""
    with transaction.atomic():
        account = Account.objects.create(name=name or email)
        user = User.objects.create_user(
            email=email,
            password=password,
            account=account,
            role=Role.OWNER,
            full_name=full_name,
            phone=phone,
        )
        responses = account_created.send(
            sender=Account,
            account=account,
            user=user,
            opening_balance=balance,
            request=request,
        )
        if balance and not any(response for _receiver, response in responses):
            raise ImproperlyConfigured(
                "account_create: no receiver of account_created took the opening "
                "balance (is the billing app installed?)"
            )
    return user


def token_create(
    *,
    account: Account,
    scopes: list[str] | None = None,
    description: str = "",
    allowed_ips: str = "",
    created_by: User | None = None,
) -> TokenCreated:
    scopes = scopes or list(TokenScope.values)
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        account=account,
        scopes=scopes,
        description=description,
        prefix=key[:8],
        key_hash=hash_token(key),
        allowed_ips=allowed_ips,
        created_by=created_by,
    )
    return TokenCreated(token, key)


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def login_record(*, user: User, ip: str | None, user_agent: str) -> LoginEvent:
    return LoginEvent.objects.create(
        user=user,
        account_id=user.account_id,
        ip=ip or None,
        user_agent=(user_agent or "")[:400],
    )


def notification_create(
    *, account_id: int, title: str, body: str = "", kind: str = "info", url: str = ""
) -> Notification:
    """The notification centre's row alone.  Callers that want the client told
    outside the cabinet too (e-mail, messengers) use ``notifications.notify``."""
    return Notification.objects.create(
        account_id=account_id, title=title[:200], body=body, kind=kind, url=url
    )


def notifications_mark_read(*, account: Account, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(account=account, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def low_balance_threshold_set(*, account: Account, threshold: Decimal | None) -> None:
    """The critical balance (Настройки → Уведомления): crossing it downwards
    notifies the owners (``billing.services.notify_balance_crossing``)."""
    Account.objects.filter(pk=account.pk).update(low_balance_threshold=threshold)
    account.low_balance_threshold = threshold
