"""VK/OK writes: the name request (manual 6.1) and what staff's decision does,
the networks' delivery callbacks, unsubscribes.

Campaigns are launched by the core (``messaging.services``); this module never
prices or sends a message."""

from collections import defaultdict
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from cabinet.moderation import Decision
from contacts.services import unsubscribe_add
from messaging.gateways.base import Receipt
from messaging.models import Message, SenderName
from messaging.models import MessageStatus as S
from messaging.statuses import receipts_apply

from .letters import InvalidRequest, letter_check, ok_group, vk_group
from .models import NameRequest

CHANNELS = ("vk", "ok")


# --- the name request (6.1) --------------------------------------------------------


def name_request_create(
    *, account, vk: str = "", ok: str = "", letter=None
) -> NameRequest:
    """A request for the account's VK and/or OK group as sender names, with
    the signed letter; it waits for staff.  ``InvalidRequest`` (nothing
    stored) for an address not on vk.com / ok.ru, a group already requested or
    approved, a letter that is not a PDF/JPG/PNG or too big."""
    vk = (vk or "").strip()
    ok = (ok or "").strip()
    if not vk and not ok:
        raise InvalidRequest(_("Укажите группу VK или группу ОК."), field="vk_group")
    groups = {}
    if vk:
        groups["vk"] = vk_group(vk)
    if ok:
        groups["ok"] = ok_group(ok)
    ext = letter_check(letter)
    for channel, name in groups.items():
        if SenderName.objects.filter(
            account_id=account.pk,
            channel=channel,
            name=name,
            status=SenderName.Status.APPROVED,
        ).exists():
            raise InvalidRequest(
                _("Группа «%(name)s» уже одобрена.") % {"name": name},
                field=f"{channel}_group",
            )
    pending = _("Заявка уже на рассмотрении: дождитесь решения или отзовите её.")
    if NameRequest.objects.filter(
        account_id=account.pk, status=Decision.PENDING
    ).exists():
        raise InvalidRequest(pending)
    row = NameRequest(
        account_id=account.pk,
        vk_group=groups.get("vk", ""),
        ok_group=groups.get("ok", ""),
        letter_name=(getattr(letter, "name", "") or "")[:255],
        letter_ext=ext,
        letter_size=letter.size,
    )
    letter.seek(0)
    row.letter.save("letter", letter, save=False)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # a double submit racing this one
        row.letter.delete(save=False)
        raise InvalidRequest(pending) from None
    return row


def name_request_withdraw(*, account, pk: int) -> None:
    """``NameRequest.DoesNotExist`` for another account's id; ``InvalidRequest``
    for a request already decided (it stays in the history)."""
    row = NameRequest.objects.get(account_id=account.pk, pk=pk)
    if row.status != Decision.PENDING:
        raise InvalidRequest(_("Отозвать можно только заявку на рассмотрении."))
    row.letter.delete(save=False)
    row.delete()


def name_request_apply(row: NameRequest) -> None:
    """``cabinet.moderation`` queue effect, inside the decision's transaction:
    an approved request's groups become the account's approved sender names
    of VK and OK."""
    if row.status != Decision.APPROVED:
        return
    now = timezone.now()
    for channel, name in row.groups():
        live = SenderName.objects.filter(
            account_id=row.account_id,
            channel=channel,
            name=name,
            status__in=[SenderName.Status.PENDING, SenderName.Status.APPROVED],
        )
        if live.filter(status=SenderName.Status.APPROVED).exists():
            continue
        if live.update(
            status=SenderName.Status.APPROVED, decided_at=now, decided_by=row.decided_by
        ):
            continue
        try:
            with transaction.atomic():
                SenderName.objects.create(
                    account_id=row.account_id,
                    channel=channel,
                    name=name,
                    status=SenderName.Status.APPROVED,
                    decided_at=now,
                    decided_by=row.decided_by,
                    comment=_("Заявка ВК/ОК #%(id)s") % {"id": row.pk},
                )
        except IntegrityError:  # approved meanwhile
            continue


# --- the networks' callbacks ---------------------------------------------------------

STATUS_EVENTS = {
    "delivered": S.DELIVERED,
    "seen": S.VIEWED,
    "clicked": S.CLICKED,
    "unsubscribed": S.UNSUBSCRIBED,
    "undelivered": S.UNDELIVERED,
}
OWN_TIME = {"seen": "seen_at", "clicked": "clicked_at"}


def _at(value) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed or timezone.now()


def callbacks_apply(*, channel: str, events: list[dict]) -> int:
    """Apply a VK or OK notification service's delivery callbacks:
    ``{"event": "delivered"|"seen"|"clicked"|"unsubscribed"|"undelivered",
    "message_id", "reason", "at"}``.  Each carries the units it bills (1 for a
    message that reached the recipient, 0 for one that did not): the core
    settles the held price once and refunds an undelivered message.
    Idempotent; returns status changes."""
    if channel not in CHANNELS:
        raise ValueError(channel)
    receipts = []
    for e in events:
        kind = e.get("event")
        if kind not in STATUS_EVENTS:
            continue
        try:
            mid = int(e.get("message_id"))
        except (TypeError, ValueError):
            continue
        extra = {}
        if kind in OWN_TIME:
            extra[OWN_TIME[kind]] = _at(e.get("at")).isoformat()
        receipts.append(
            Receipt(
                STATUS_EVENTS[kind],
                message_id=mid,
                reason=str(e.get("reason") or "")[:200],
                units=0 if kind == "undelivered" else 1,
                extra=extra,
            )
        )
    if not receipts:
        return 0
    return receipts_apply(channel=channel, receipts=receipts)


def unsubscribes_record(*, channel: str, message_ids: list[int]) -> int:
    """Recipients who unsubscribed from a group stop getting its messages on
    that network (``contacts`` keeps the list; other groups still may)."""
    rows = Message.objects.filter(
        id__any=sorted(message_ids), channel=channel, status=S.UNSUBSCRIBED
    ).values_list("account_id", "phone", "sender")
    seen = defaultdict(set)
    for account_id, phone, sender in rows:
        if phone in seen[(account_id, sender)]:
            continue
        seen[(account_id, sender)].add(phone)
        unsubscribe_add(
            account_id=account_id, phone=phone, channel=channel, sender=sender
        )
    return sum(len(v) for v in seen.values())
