"""Sender names (S7): requests, staff decisions, and the check the engine runs
at launch.

A name is at most 11 characters of Latin letters, digits and punctuation, with
at least one letter (operators reject purely numeric alphanumeric senders).
A channel's shared senders (its registry entry: SMS's is
``settings.DEFAULT_SENDER_NAME``) are always available; a channel may add its
own rule on an approved name (``ChannelKind.check_sender``).
"""

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cabinet import moderation as decisions

from . import registry
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


def default_sender(channel: str = "sms") -> str:
    """The shared sender a campaign of ``channel`` uses when none is chosen."""
    return registry.get_channel(channel).default_sender()


def shared_senders(channel: str = "sms") -> tuple[str, ...]:
    """Shared names any account may send from on ``channel``."""
    return registry.get_channel(channel).shared()


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
    """Names the account may send from: the shared senders of the channel
    first — the default one leads, it is what a form preselects — then its
    approved names.  An approved name never becomes the sender by itself: the
    user picks it."""
    names = approved_names(account_id=account_id, channel=channel)
    shared = list(shared_senders(channel))
    default = default_sender(channel)
    if default in shared:
        shared.remove(default)
    if default:  # a channel without shared names (VK, OK) offers only its own
        shared.insert(0, default)
    return shared + [name for name in names if name not in shared]


def sender_validate(*, account, channel: str, sender: str) -> str:
    """The sender to use for a campaign: ``sender`` when the account owns it
    (approved) or it is the shared default; the default when empty.  Raises
    ``SenderNotAllowed`` otherwise."""
    sender = (sender or "").strip()
    if not sender:
        if registry.get_channel(channel).own_sender_required:
            # A channel without shared names (VK, OK) sends only from the
            # account's own approved ones.
            raise SenderNotAllowed(
                _("Перед созданием рассылки необходимо заказать имя отправителя.")
            )
        return default_sender(channel)
    if sender in shared_senders(channel):
        return sender
    if SenderName.objects.filter(
        account_id=account.pk,
        channel=channel,
        name=sender,
        status=SenderName.Status.APPROVED,
    ).exists():
        kind = registry.get_channel(channel)
        if kind.check_sender is not None:
            kind.check_sender(account, sender)
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


def sender_allowed_sql(*, account: str, channel: str, sender: str, shared: str) -> str:
    """``sender_validate`` compiled for a channel without its own rule on
    approved names (``ChannelKind.check_sender``): a query returning a row when
    the sender is one of the ``shared`` names (an SQL text array) or an
    approved name of the account.  The arguments are SQL expressions."""
    return f"""
        SELECT 1 WHERE {sender} = ANY({shared})
        UNION ALL
        SELECT 1 FROM messaging_sendername n
        WHERE n.account_id = {account} AND n.channel = {channel}
          AND n.name = {sender} AND n.status = 'approved'"""


def sender_request(*, account, name: str, channel: str = "sms") -> SenderName:
    """Request a new name; it waits for staff.  ``InvalidSenderName`` for a name
    that breaks the rules (the channel's own, ``ChannelKind.sender_name_rule``,
    else ``name_check``) or is already requested/approved."""
    rule = registry.get_channel(channel).sender_name_rule or name_check
    name = rule(name)
    if name in shared_senders(channel):
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
    reason_text: str = "",
    comment: str = "",
    staff_user=None,
) -> SenderName:
    """Staff decision on a pending request (``cabinet.moderation.decide``): a
    rejection needs one of the manual's reasons; the client is notified.
    Deciding an already decided request again changes nothing."""
    return decisions.decide(
        item=sender_name,
        approve=approve,
        reason=reason,
        reason_text=reason_text,
        comment=comment,
        staff_user=staff_user,
    ).item


def sender_withdraw(*, account, sender_name_id: int) -> None:
    """Withdraw a request still waiting for staff (decided requests stay in
    the history).  ``SenderName.DoesNotExist`` for another account's id."""
    row = SenderName.objects.get(account_id=account.pk, pk=sender_name_id)
    if row.status != SenderName.Status.PENDING:
        raise InvalidSenderName(_("Отозвать можно только запрос на рассмотрении."))
    row.delete()
