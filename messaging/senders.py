"""Sender names (S7): requests, staff decisions, and the check the engine runs
at launch.

A name is at most 11 characters of Latin letters, digits and punctuation, with
at least one letter (operators reject purely numeric alphanumeric senders).
The shared default sender ``settings.DEFAULT_SENDER_NAME`` is always available.
"""

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cabinet.models import Notification
from cabinet.services import notification_create

from .models import SenderName

MAX_LENGTH = 11
# Latin letters, digits, space and the punctuation operators accept.
NAME_RE = re.compile(r"[A-Za-z0-9 !\"#$%&'()*+,\-./:;<=>?@_]+")


class SenderNotAllowed(ValueError):
    """The sender may not be used by this account; ``message`` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.code = "sender_not_allowed"
        self.field = "sender"


class InvalidSenderName(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def default_sender() -> str:
    return settings.DEFAULT_SENDER_NAME


def name_check(name: str) -> str:
    """The cleaned name, or ``InvalidSenderName`` with the rule it breaks."""
    name = (name or "").strip()
    if not name:
        raise InvalidSenderName(_("Введите имя отправителя."))
    if len(name) > MAX_LENGTH:
        raise InvalidSenderName(
            _("Максимальная длина имени — %(n)s символов.") % {"n": MAX_LENGTH}
        )
    if not NAME_RE.fullmatch(name):
        raise InvalidSenderName(
            _("Используйте только буквы латинского алфавита, цифры и знаки препинания.")
        )
    if not re.search(r"[A-Za-z]", name):
        raise InvalidSenderName(_("Имя должно содержать хотя бы одну латинскую букву."))
    return name


def approved_names(*, account_id: int, channel: str = "sms") -> list[str]:
    return list(
        SenderName.objects.filter(
            account_id=account_id, channel=channel, status=SenderName.Status.APPROVED
        )
        .order_by("name")
        .values_list("name", flat=True)
    )


def sender_choices(*, account_id: int, channel: str = "sms") -> list[str]:
    """Names the account may send from: the shared default sender first — what
    a form preselects — then its approved names.  An approved name never
    becomes the sender by itself: the user picks it."""
    names = approved_names(account_id=account_id, channel=channel)
    default = default_sender()
    return [default] + [n for n in names if n != default]


def sender_validate(*, account, channel: str, sender: str) -> str:
    """The sender to use for a campaign: ``sender`` when the account owns it
    (approved) or it is the shared default; the default when empty.  Raises
    ``SenderNotAllowed`` otherwise."""
    sender = (sender or "").strip()
    if not sender or sender == default_sender():
        return default_sender()
    if SenderName.objects.filter(
        account_id=account.pk,
        channel=channel,
        name=sender,
        status=SenderName.Status.APPROVED,
    ).exists():
        return sender
    pending = SenderName.objects.filter(
        account_id=account.pk,
        channel=channel,
        name=sender,
        status=SenderName.Status.PENDING,
    )
    if pending.exists():
        raise SenderNotAllowed(
            _("Имя отправителя «%(name)s» ещё на модерации.") % {"name": sender}
        )
    raise SenderNotAllowed(
        _(
            "Имя отправителя «%(name)s» не одобрено для вашего аккаунта. "
            "Запросите его в разделе «Имена отправителя»."
        )
        % {"name": sender}
    )


def sender_request(*, account, name: str, channel: str = "sms") -> SenderName:
    """Request a new name; it waits for staff.  ``InvalidSenderName`` for a name
    that breaks the rules or is already requested/approved."""
    name = name_check(name)
    if name == default_sender():
        raise InvalidSenderName(
            _("Имя «%(name)s» — общее имя отправителя, оно уже доступно.")
            % {"name": name}
        )
    live = SenderName.objects.filter(
        account_id=account.pk,
        channel=channel,
        name=name,
        status__in=[SenderName.Status.PENDING, SenderName.Status.APPROVED],
    )
    if live.exists():
        raise InvalidSenderName(
            _("Имя «%(name)s» уже запрошено или одобрено.") % {"name": name}
        )
    try:
        with transaction.atomic():
            return SenderName.objects.create(
                account_id=account.pk, channel=channel, name=name
            )
    except IntegrityError as exc:  # a double submit racing this one
        raise InvalidSenderName(
            _("Имя «%(name)s» уже запрошено или одобрено.") % {"name": name}
        ) from exc


def sender_decide(
    *,
    sender_name: SenderName,
    approve: bool,
    reason: str = "",
    comment: str = "",
    staff_user=None,
) -> SenderName:
    """Staff decision on a pending request; notifies the client.  Deciding an
    already decided request again changes nothing."""
    with transaction.atomic():
        row = SenderName.objects.select_for_update().get(pk=sender_name.pk)
        if row.status != SenderName.Status.PENDING:
            return row
        if not approve and not reason:
            raise ValueError("a rejection needs a reason")
        row.status = (
            SenderName.Status.APPROVED if approve else SenderName.Status.REJECTED
        )
        row.reason = "" if approve else reason
        row.comment = comment[:300]
        row.decided_at = timezone.now()
        row.decided_by = staff_user
        row.save(
            update_fields=["status", "reason", "comment", "decided_at", "decided_by"]
        )
        if approve:
            title = _("Имя отправителя «%(name)s» одобрено") % {"name": row.name}
            body = _("Теперь его можно выбрать в поле «От:» формы отправки.")
        else:
            title = _("Имя отправителя «%(name)s» отклонено") % {"name": row.name}
            body = row.get_reason_display() + (
                f". {row.comment}" if row.comment else ""
            )
        notification_create(
            account_id=row.account_id,
            title=title,
            body=body,
            kind=Notification.Kind.SENDER,
            url="/sms/senders/",
        )
    return row


def sender_withdraw(*, account, sender_name_id: int) -> None:
    """Withdraw a request still waiting for staff (decided requests stay in
    the history).  ``SenderName.DoesNotExist`` for another account's id."""
    row = SenderName.objects.get(account_id=account.pk, pk=sender_name_id)
    if row.status != SenderName.Status.PENDING:
        raise InvalidSenderName(_("Отозвать можно только запрос на рассмотрении."))
    row.delete()
