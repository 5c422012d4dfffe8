"""Reads of the staff console."""

from django.db.models import Q

from cabinet import moderation
from cabinet.models import Account, ApiToken, User
from messaging.models import Campaign

from .models import AuditEntry

PAGE = 100


def queue(key: str):
    for q in moderation.queues():
        if q.key == key:
            return q
    return None


def pending(q, limit: int = PAGE):
    return list(q.pending().order_by("pk")[:limit])


def accounts(query: str = "", limit: int = 50):
    qs = Account.objects.order_by("-id")
    query = (query or "").strip()[:100]
    if query:
        cond = Q(name__icontains=query) | Q(users__email__icontains=query)
        if query.isdigit() and len(query) < 12:
            cond |= Q(pk=int(query))
        qs = qs.filter(cond).distinct()
    return list(qs[:limit])


def account_users(account_id: int):
    return list(User.objects.filter(account_id=account_id).order_by("id"))


def account_tokens(account_id: int):
    return list(ApiToken.objects.filter(account_id=account_id).order_by("-created_at"))


def account_campaigns(account_id: int, limit: int = 20):
    return list(
        Campaign.objects.filter(account_id=account_id).order_by("-created_at")[:limit]
    )


def audit(account_id: int | None = None, limit: int = 200):
    qs = AuditEntry.objects.select_related("staff", "account")
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return list(qs[:limit])
