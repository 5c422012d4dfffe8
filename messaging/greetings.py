"""Greetings and notifications (S9): every day at the chosen time, contacts of
the chosen groups whose date field (birth date or a custom date field) falls on
that day receive the text — every year.  Those born on 29 February are greeted
on 28 February in other years.

The campaign goes through the engine with the matching contacts as direct
recipients (phone + contact id); ``rendering.build_renderer`` loads their
phonebook fields in one query, so ``[Имя]`` and friends work as usual.  One run
per day: the campaign's ``client_id`` is ``greeting:<id>:<date>``.
"""

import calendar
import logging
import re
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact, CustomField
from contacts.selectors import apply_filters

from .models import Greeting, Source
from .scheduling import MISSED_GRACE, _locked_due, launch_payload, run_failed, zone

log = logging.getLogger(__name__)

_DMY = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{2,4})\s*$")
_YMD = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")


def date_fields(*, account_id: int) -> list[CustomField]:
    """Custom fields of the account that hold dates."""
    return list(
        CustomField.objects.filter(account_id=account_id, kind=CustomField.Kind.DATE)
    )


def parse_day(value) -> tuple[int, int] | None:
    """(month, day) of a stored date: ``date``, ``YYYY-MM-DD…`` or
    ``DD.MM.YYYY``; None when it is not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.month, value.day
    text = str(value)
    m = _YMD.match(text)
    if m:
        month, day = int(m.group(2)), int(m.group(3))
    else:
        m = _DMY.match(text)
        if not m:
            return None
        day, month = int(m.group(1)), int(m.group(2))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return month, day


def days_celebrated(day: date) -> set[tuple[int, int]]:
    """(month, day) pairs greeted on ``day``: itself, plus 29 February on 28
    February of a non-leap year."""
    result = {(day.month, day.day)}
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        result.add((2, 29))
    return result


def greeting_audience(*, greeting: Greeting, day: date) -> list[dict]:
    """Contacts (phone, contact id) of the greeting's groups whose date field
    falls on ``day``, de-duplicated by phone."""
    payload = greeting.payload or {}
    group_ids = payload.get("group_ids") or []
    if not group_ids:
        return []
    qs = Contact.objects.filter(
        account_id=greeting.account_id,
        group_id__in=group_ids,
        group__deleted_at__isnull=True,
        group__is_stoplist=False,
    )
    qs = apply_filters(qs, payload.get("filters") or None)
    wanted = days_celebrated(day)
    result: dict[str, dict] = {}
    if greeting.date_field == "birth_date":
        cond = None
        from django.db.models import Q

        for month, dom in wanted:
            q = Q(birth_date__month=month, birth_date__day=dom)
            cond = q if cond is None else cond | q
        for cid, phone in qs.filter(cond).order_by("id").values_list("id", "phone"):
            result.setdefault(phone, {"phone": phone, "contact_id": cid})
    else:
        key = greeting.date_field
        rows = (
            qs.filter(extra__has_key=key)
            .order_by("id")
            .values_list("id", "phone", "extra")
        )
        for cid, phone, extra in rows.iterator(chunk_size=5000):
            if parse_day((extra or {}).get(key)) in wanted:
                result.setdefault(phone, {"phone": phone, "contact_id": cid})
    return list(result.values())


def next_run(send_time: time, tz: str, after: datetime) -> datetime:
    z = zone(tz)
    local = after.astimezone(z)
    at = datetime.combine(local.date(), send_time, tzinfo=z)
    if at <= after:
        at = datetime.combine(local.date() + timedelta(days=1), send_time, tzinfo=z)
    return at


def greeting_upsert(
    *,
    account,
    user,
    greeting: Greeting | None,
    occasion: str,
    date_field: str,
    send_time: time,
    timezone: str,
    payload: dict,
) -> Greeting:
    from django.utils import timezone as dj_tz

    if greeting is None:
        greeting = Greeting(account_id=account.pk, created_by=user)
    greeting.occasion = occasion.strip()[:200]
    greeting.name = greeting.occasion
    greeting.date_field = date_field
    greeting.send_time = send_time
    greeting.timezone = timezone
    greeting.payload = payload
    greeting.next_run_at = next_run(send_time, timezone, dj_tz.now())
    greeting.save()
    return greeting


def greeting_toggle(*, greeting: Greeting) -> Greeting:
    greeting.is_active = not greeting.is_active
    if greeting.is_active:
        greeting.next_run_at = next_run(
            greeting.send_time, greeting.timezone, timezone.now()
        )
    greeting.save(update_fields=["is_active", "next_run_at"])
    return greeting


def greetings_run_due(*, now: datetime | None = None) -> int:
    """Launch today's greetings whose time has come; returns campaigns launched."""
    from .senders import SenderNotAllowed
    from .services import LaunchError, Recipient

    now = now or timezone.now()
    launched = 0
    with transaction.atomic():
        for greeting in _locked_due(Greeting, now):
            due = greeting.next_run_at
            greeting.next_run_at = next_run(
                greeting.send_time, greeting.timezone, max(due, now)
            )
            if now - due <= MISSED_GRACE:
                day = due.astimezone(zone(greeting.timezone)).date()
                audience = greeting_audience(greeting=greeting, day=day)
                if audience:
                    try:
                        with transaction.atomic():
                            launch_payload(
                                recurring=greeting,
                                source=Source.GREETING,
                                client_id=f"greeting:{greeting.pk}:{day.isoformat()}",
                                extra={
                                    "group_ids": None,
                                    "filters": None,
                                    "phones": None,
                                    "recipients": [Recipient(**r) for r in audience],
                                },
                            )
                    except (LaunchError, SenderNotAllowed) as exc:
                        run_failed(recurring=greeting, message=exc.message)
                    else:
                        greeting.last_error = ""
                        greeting.runs += 1
                        launched += 1
                greeting.last_run_at = due
            else:
                log.warning("greeting %s missed %s", greeting.pk, due)
            greeting.save(
                update_fields=["next_run_at", "last_run_at", "runs", "last_error"]
            )
    return launched


def describe(greeting: Greeting) -> str:
    field = (
        _("дата рождения")
        if greeting.date_field == "birth_date"
        else greeting.date_field
    )
    return _("каждый год в день «%(f)s» в %(t)s") % {
        "f": field,
        "t": greeting.send_time.strftime("%H:%M"),
    }
