from collections.abc import Iterable

from .models import Contact, StopNumber, Unsubscribe


def blocked_phones(*, account_id: int, channel: str, sender: str,
                   phones: Iterable[str] | None = None) -> set[str]:
    """Every number this account must not write to on ``channel`` from ``sender``:
    its stop-list numbers, members of its stop-list groups, and numbers that
    unsubscribed from this sender on this channel.

    The dispatch pipeline calls this for every send in every channel, so no
    channel can forget the stop-list.  With ``phones`` the answer is limited to
    those numbers (cheaper for small sends)."""
    stop = StopNumber.objects.filter(account_id=account_id)
    members = Contact.objects.filter(
        account_id=account_id, group__is_stoplist=True, group__deleted_at__isnull=True
    )
    unsub = Unsubscribe.objects.filter(account_id=account_id, channel=channel, sender=sender)
    if phones is not None:
        phones = list(set(phones))
        if not phones:
            return set()
        stop, members, unsub = (q.filter(phone__in=phones) for q in (stop, members, unsub))
    result: set[str] = set(stop.values_list("phone", flat=True))
    result.update(members.values_list("phone", flat=True))
    result.update(unsub.values_list("phone", flat=True))
    return result
