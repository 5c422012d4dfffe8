"""Reads of the promo app.  Every function takes the account first; a foreign
id raises ``DoesNotExist`` (views turn it into a 404)."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from messaging.models import MessageStatus

from .models import PromoAction, PromoCode, PromoManager

# Message statuses that prove the code reached the recipient.
DELIVERED_STATUSES = (
    MessageStatus.DELIVERED,
    MessageStatus.VIEWED,
    MessageStatus.CLICKED,
    MessageStatus.UNSUBSCRIBED,
)


def promo_actions(*, account_id: int) -> list[PromoAction]:
    """Active actions of the account, newest first (the compose form's picker)."""
    return list(PromoAction.objects.filter(account_id=account_id, is_active=True))


def action_list(*, account_id: int, include_inactive: bool = True) -> list[PromoAction]:
    qs = PromoAction.objects.filter(account_id=account_id)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return list(qs)


def actions(*, account_id: int) -> QuerySet[PromoAction]:
    """The account's actions as a queryset (for paging), without stats."""
    return PromoAction.objects.filter(account_id=account_id)


def action_get(*, account_id: int, action_id) -> PromoAction:
    """The account's action; ``PromoAction.DoesNotExist`` for a foreign or
    malformed id."""
    try:
        action_id = int(action_id)
    except (TypeError, ValueError):
        raise PromoAction.DoesNotExist from None
    return PromoAction.objects.get(account_id=account_id, pk=action_id)


@dataclass
class ActionStats:
    sent: int = 0
    delivered: int = 0
    redeemed: int = 0
    reminders: int = 0

    @property
    def redemption_rate(self) -> float:
        """Redeemed per code sent, in per cent."""
        return round(100.0 * self.redeemed / self.sent, 1) if self.sent else 0.0


def action_stats(
    *, account_id: int, action_ids: list[int] | None = None
) -> dict[int, ActionStats]:
    """Per action: codes sent, delivered (by the message's status), redeemed,
    reminders sent.  One grouped query whatever the number of actions."""
    qs = PromoCode.objects.filter(account_id=account_id)
    if action_ids is not None:
        qs = qs.filter(action_id__in=action_ids)
    rows = (
        qs.values("action_id")
        .annotate(
            sent=Count("id"),
            delivered=Count("id", filter=Q(message__status__in=DELIVERED_STATUSES)),
            redeemed=Count("id", filter=Q(used_at__isnull=False)),
            reminders=Sum("reminders_sent"),
        )
        .order_by()
    )
    return {
        r["action_id"]: ActionStats(
            sent=r["sent"],
            delivered=r["delivered"],
            redeemed=r["redeemed"],
            reminders=r["reminders"] or 0,
        )
        for r in rows
    }


def with_stats(*, account_id: int, actions: list[PromoAction]) -> list[PromoAction]:
    """These actions, each with ``.stats`` (one grouped query)."""
    stats = action_stats(account_id=account_id, action_ids=[a.pk for a in actions])
    for action in actions:
        action.stats = stats.get(action.pk, ActionStats())
    return actions


def actions_with_stats(*, account_id: int) -> list[PromoAction]:
    """The account's actions, each with ``.stats`` (two queries in all)."""
    return with_stats(account_id=account_id, actions=action_list(account_id=account_id))


def action_codes(*, account_id: int, action_id: int):
    """Codes of one action, newest first, with who used them."""
    return (
        PromoCode.objects.filter(account_id=account_id, action_id=action_id)
        .select_related("message")
        .only(
            "id",
            "code",
            "phone",
            "issued_at",
            "used_at",
            "used_by_name",
            "reminders_sent",
            "message_id",
            "message__status",
            "action_id",
        )
        .order_by("-id")
    )


def manager_list(*, account_id: int) -> list[PromoManager]:
    return list(PromoManager.objects.filter(account_id=account_id, is_active=True))


def manager_get(*, account_id: int, manager_id) -> PromoManager:
    try:
        manager_id = int(manager_id)
    except (TypeError, ValueError):
        raise PromoManager.DoesNotExist from None
    return PromoManager.objects.get(
        account_id=account_id, pk=manager_id, is_active=True
    )


def code_find(*, account_id: int, code: str) -> PromoCode | None:
    """The account's code (normalised form), with its action, or None."""
    if not code:
        return None
    return (
        PromoCode.objects.select_related("action")
        .filter(account_id=account_id, code=code)
        .first()
    )
