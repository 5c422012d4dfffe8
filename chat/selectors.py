"""Reads of the online chat; every query is scoped to the account."""

import re

from django.db.models import Count, Q
from django.utils import timezone

from billing.selectors import requisites_for
from cabinet.models import User

from .models import (
    CannedReply,
    ChatMessage,
    Conversation,
    Operator,
    Plan,
    Site,
    Visitor,
)

ONLINE_SECONDS = 60


def sites_of(*, account_id: int):
    return Site.objects.filter(account_id=account_id)


def site_get(*, account_id: int, site_id: int) -> Site:
    return Site.objects.get(account_id=account_id, pk=site_id)


def site_by_key(key: str) -> Site | None:
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", key):
        return None
    return Site.objects.filter(key=key).select_related("account").first()


def plan_of(*, account_id: int) -> Plan:
    return Plan.objects.filter(account_id=account_id).first() or Plan(
        account_id=account_id
    )


def operators_of(*, account_id: int):
    return Operator.objects.filter(account_id=account_id).select_related("user")


def operator_for(user) -> Operator | None:
    if not getattr(user, "is_authenticated", False) or not user.account_id:
        return None
    return Operator.objects.filter(user=user, account_id=user.account_id).first()


def operator_candidates(*, account_id: int):
    return User.objects.filter(account_id=account_id, is_active=True).exclude(
        pk__in=Operator.objects.filter(account_id=account_id).values("user_id")
    )


def operators_online(*, account_id: int) -> bool:
    since = timezone.now() - timezone.timedelta(seconds=ONLINE_SECONDS)
    return Operator.objects.filter(account_id=account_id, seen_at__gte=since).exists()


def operator_emails(*, account_id: int) -> list[str]:
    return list(
        Operator.objects.filter(account_id=account_id, user__is_active=True)
        .values_list("user__email", flat=True)
        .distinct()
    )


def requisites(*, account_id: int):
    return requisites_for(account_id=account_id)


def canned_of(*, account_id: int):
    return CannedReply.objects.filter(account_id=account_id)


def conversations_of(*, account_id: int, status: str = "", limit: int = 200):
    qs = Conversation.objects.filter(account_id=account_id).select_related(
        "visitor", "site", "operator", "campaign"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-last_message_at", "-pk")[:limit]


def conversation_get(*, account_id: int, conversation_id) -> Conversation:
    return Conversation.objects.select_related(
        "visitor", "site", "operator", "campaign"
    ).get(account_id=account_id, pk=conversation_id)


def messages_of(*, conversation_id: int, after: int = 0, limit: int = 500):
    return list(
        ChatMessage.objects.filter(conversation_id=conversation_id, pk__gt=after)
        .select_related("operator")
        .order_by("id")[:limit]
    )


def account_messages_after(*, account_id: int, after: int, limit: int = 500):
    return list(
        ChatMessage.objects.filter(account_id=account_id, pk__gt=after)
        .select_related("operator")
        .order_by("id")[:limit]
    )


def visitor_current(*, visitor: Visitor) -> Conversation | None:
    return (
        Conversation.objects.filter(visitor=visitor, status="open")
        .order_by("-pk")
        .first()
    )


def visitor_history(*, visitor: Visitor, after: int, limit: int = 500):
    """The visitor's messages of their open conversation after ``after``
    (operators' notes — system lines — stay in the console)."""
    conv = visitor_current(visitor=visitor)
    if conv is None:
        return []
    return list(
        ChatMessage.objects.filter(conversation=conv, pk__gt=after)
        .exclude(author=ChatMessage.Author.SYSTEM)
        .select_related("operator")
        .order_by("id")[:limit]
    )


def earlier_conversations(*, conversation: Conversation):
    return (
        Conversation.objects.filter(visitor_id=conversation.visitor_id)
        .exclude(pk=conversation.pk)
        .annotate(n=Count("messages"))
        .order_by("-pk")[:20]
    )


def browser_of(user_agent: str) -> str:
    ua = user_agent or ""
    for name, pattern in (
        ("Edge", r"Edg/([\d]+)"),
        ("Opera", r"OPR/([\d]+)"),
        ("Яндекс Браузер", r"YaBrowser/([\d]+)"),
        ("Chrome", r"(?:Headless)?Chrome/([\d]+)"),
        ("Firefox", r"Firefox/([\d]+)"),
        ("Safari", r"Version/([\d]+).*Safari"),
    ):
        m = re.search(pattern, ua)
        if m:
            system = next(
                (
                    s
                    for s, key in (
                        ("Windows", "Windows"),
                        ("Android", "Android"),
                        ("iOS", "iPhone"),
                        ("macOS", "Mac OS"),
                        ("Linux", "Linux"),
                    )
                    if key in ua
                ),
                "",
            )
            return f"{name} {m.group(1)}" + (f", {system}" if system else "")
    return ua[:80]


def unread_total(*, account_id: int) -> int:
    return (
        Conversation.objects.filter(account_id=account_id, unread__gt=0)
        .filter(~Q(status="closed"))
        .count()
    )


def last_message_id(*, account_id: int) -> int:
    last = (
        ChatMessage.objects.filter(account_id=account_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return last or 0
