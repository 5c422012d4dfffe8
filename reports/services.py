"""Writes of the reports app: saved filters, exporting a campaign's
recipients to a phonebook group (R6), and cancelling a campaign from its page."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from contacts.models import Group
from contacts.services import ContactError, group_add_phones
from messaging import services as messaging_services
from messaging.models import Campaign

from . import selectors
from .filters import FILTER_KEYS, query_string
from .models import SavedFilter


class ReportError(Exception):
    """A refused report action; ``message`` is shown to the user."""

    def __init__(self, message: str, *, field: str = "", code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


def saved_filter_save(
    *, account_id: int, channel: str, name: str, params, user=None
) -> SavedFilter:
    """Save (or overwrite, by name) the filters in ``params`` for everyone in
    the account."""
    name = (name or "").strip()
    if not name:
        raise ReportError(_("Введите название фильтра."), field="name")
    if len(name) > 100:
        raise ReportError(
            _("Название фильтра — не длиннее 100 символов."), field="name"
        )
    query = query_string(params)
    if not query:
        raise ReportError(_("Нет фильтров для сохранения: добавьте хотя бы один."))
    if len(query) > 2000:
        raise ReportError(_("Слишком длинный набор фильтров."))
    with transaction.atomic():
        try:
            saved, _created = SavedFilter.objects.update_or_create(
                account_id=account_id,
                channel=channel,
                name=name,
                defaults={"query": query, "created_by": user},
            )
        except IntegrityError as exc:  # a concurrent save of the same name
            raise ReportError(_("Фильтр с таким названием уже сохраняется.")) from exc
    return saved


def saved_filter_delete(*, account_id: int, filter_id: int) -> None:
    """``SavedFilter.DoesNotExist`` for another account's filter."""
    SavedFilter.objects.get(account_id=account_id, pk=filter_id).delete()


def recipients_to_group(
    *,
    account_id: int,
    campaign_id: int,
    which: str,
    group_id: int | None = None,
    new_group_name: str = "",
    remove_from_other_groups: bool = False,
) -> tuple[Group, int]:
    """Add the campaign's delivered (or not delivered) numbers to an existing
    group of the account or a new one.  Returns the group and how many numbers
    the campaign had in that set."""
    if which not in selectors.RECIPIENT_SETS:
        raise ReportError(
            _("Выберите: доставленные или недоставленные."), field="which"
        )
    selectors.campaign_get(account_id=account_id, campaign_id=campaign_id)
    name = (new_group_name or "").strip()
    if (
        group_id is None
        and name
        and Group.objects.filter(
            account_id=account_id, name=name, deleted_at__isnull=True
        ).exists()
    ):
        # Also what a double submit of "new group" runs into: nothing changes.
        raise ReportError(
            _("Группа «%(name)s» уже есть — выберите её среди существующих.")
            % {"name": name},
            field="new_group_name",
        )
    phones = list(
        selectors.recipient_phones(
            account_id=account_id, campaign_id=campaign_id, which=which
        )
    )
    if not phones:
        raise ReportError(
            _("В рассылке нет абонентов с таким статусом."), field="which"
        )
    try:
        group = group_add_phones(
            account_id=account_id,
            phones=phones,
            group_id=group_id,
            new_group_name=new_group_name,
            remove_from_other_groups=remove_from_other_groups,
        )
    except Group.DoesNotExist as exc:
        raise ReportError(
            _("Группа не найдена."), field="group", code="not_found"
        ) from exc
    except ContactError as exc:
        raise ReportError(exc.message, field=exc.field or "", code=exc.code) from exc
    return group, len(phones)


@dataclass(frozen=True)
class CancelResult:
    """What «Отменить рассылку» did: messages cancelled, money back on the
    balance now, and money still held by a preparation that has not stopped
    yet (it comes back when the preparation notices the cancel)."""

    cancelled: int
    refunded: Decimal
    refund_to_come: Decimal


def campaign_cancel(*, account_id: int, campaign_id: int, user=None) -> CancelResult:
    """Cancel what the campaign has not sent yet and refund it (the engine's
    ``campaign_cancel``).  ``Campaign.DoesNotExist`` for another account's id;
    ``ReportError`` when there is nothing left to cancel."""
    with transaction.atomic():
        # The row lock makes the cost read before and after the engine's
        # cancel (which takes the same lock) the refund of this cancel alone.
        campaign = (
            Campaign.objects.select_for_update()
            .filter(account_id=account_id, pk=campaign_id)
            .get()
        )
        if not selectors.campaign_cancellable(campaign):
            raise ReportError(
                _("Рассылка уже завершена: отменять нечего."), code="finished"
            )
        before = campaign.cost
        cancelled = messaging_services.campaign_cancel(campaign=campaign, user=user)
        campaign.refresh_from_db(fields=["cost", "options"])
    refunded = before - campaign.cost
    # Not settled yet: the hold is returned by the preparation task when it
    # stops (nothing of a campaign in preparation has been sent).
    to_come = (
        campaign.cost if not (campaign.options or {}).get("settled") else Decimal(0)
    )
    return CancelResult(cancelled, refunded, to_come)


__all__ = [
    "CancelResult",
    "FILTER_KEYS",
    "ReportError",
    "campaign_cancel",
    "recipients_to_group",
    "saved_filter_delete",
    "saved_filter_save",
]
