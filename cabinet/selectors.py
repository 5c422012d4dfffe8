from .models import ApiToken, LoginEvent, Notification, hash_token


def token_by_key(key: str) -> ApiToken | None:
    if not key:
        return None
    return (
        ApiToken.objects.select_related("account")
        .filter(key_hash=hash_token(key))
        .first()
    )


def unread_notifications_count(*, account_id: int) -> int:
    return Notification.objects.filter(
        account_id=account_id, read_at__isnull=True
    ).count()


def notifications(*, account_id: int):
    return Notification.objects.filter(account_id=account_id)


def login_history(*, account_id: int):
    return LoginEvent.objects.filter(account_id=account_id).select_related("user")
