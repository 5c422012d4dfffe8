"""The scheduler (S10): recurring campaigns by months × days of month ×
weekdays × hours × minutes, in the schedule's time zone.

A rule matches a local time when every non-empty list contains its part (an
empty list means "any"; minutes are always given).  The manual's example —
September–November, odd days, Wednesday/Thursday, 12:00 and 14:00 — is
``Rule(months={9,10,11}, days={1,3,…,31}, weekdays={3,4}, hours={12,14},
minutes={0})``.

``schedules_run_due`` (a periodic Celery task, see CELERY_BEAT_SCHEDULE) launches
each due schedule exactly once per due time: the row is locked while it is
handled, and the campaign's ``client_id`` is ``schedule:<id>:<due time>``, so a
repeated run (two beat ticks, a retried task) returns the same campaign.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from cabinet.models import Account, Notification
from cabinet.notifications import notify

from .models import Schedule

log = logging.getLogger(__name__)

# A due time missed by more than this (workers down) is skipped, not sent late.
MISSED_GRACE = timedelta(hours=1)
# How far ahead to look for the next matching time (rules like "29 February
# on a Monday" match once in 28 years; past this horizon a rule is "never").
HORIZON_DAYS = 366 * 8

MONTH_NAMES = (
    gettext_lazy("Январь"),
    gettext_lazy("Февраль"),
    gettext_lazy("Март"),
    gettext_lazy("Апрель"),
    gettext_lazy("Май"),
    gettext_lazy("Июнь"),
    gettext_lazy("Июль"),
    gettext_lazy("Август"),
    gettext_lazy("Сентябрь"),
    gettext_lazy("Октябрь"),
    gettext_lazy("Ноябрь"),
    gettext_lazy("Декабрь"),
)
WEEKDAY_NAMES = (
    gettext_lazy("Понедельник"),
    gettext_lazy("Вторник"),
    gettext_lazy("Среда"),
    gettext_lazy("Четверг"),
    gettext_lazy("Пятница"),
    gettext_lazy("Суббота"),
    gettext_lazy("Воскресенье"),
)
# The forms the manual's sentence needs: "в сентябре", "выпадает на среду".
MONTHS_IN = (
    pgettext_lazy("в каком месяце", "январе"),
    pgettext_lazy("в каком месяце", "феврале"),
    pgettext_lazy("в каком месяце", "марте"),
    pgettext_lazy("в каком месяце", "апреле"),
    pgettext_lazy("в каком месяце", "мае"),
    pgettext_lazy("в каком месяце", "июне"),
    pgettext_lazy("в каком месяце", "июле"),
    pgettext_lazy("в каком месяце", "августе"),
    pgettext_lazy("в каком месяце", "сентябре"),
    pgettext_lazy("в каком месяце", "октябре"),
    pgettext_lazy("в каком месяце", "ноябре"),
    pgettext_lazy("в каком месяце", "декабре"),
)
WEEKDAYS_ON = (
    pgettext_lazy("выпадает на", "понедельник"),
    pgettext_lazy("выпадает на", "вторник"),
    pgettext_lazy("выпадает на", "среду"),
    pgettext_lazy("выпадает на", "четверг"),
    pgettext_lazy("выпадает на", "пятницу"),
    pgettext_lazy("выпадает на", "субботу"),
    pgettext_lazy("выпадает на", "воскресенье"),
)


class InvalidRule(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Rule:
    months: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()  # ISO: 1 = Monday … 7 = Sunday
    hours: frozenset[int] = frozenset()
    minutes: frozenset[int] = frozenset({0})

    @classmethod
    def build(cls, *, months=(), days=(), weekdays=(), hours=(), minutes=()) -> "Rule":
        """A validated rule; ``InvalidRule`` (Russian message) otherwise."""

        def ints(values, low, high, label):
            try:
                result = frozenset(int(v) for v in values or ())
            except (TypeError, ValueError):
                raise InvalidRule(_("%(f)s: ожидаются числа.") % {"f": label}) from None
            if any(v < low or v > high for v in result):
                raise InvalidRule(
                    _("%(f)s: допустимы значения от %(a)s до %(b)s.")
                    % {"f": label, "a": low, "b": high}
                )
            return result

        rule = cls(
            months=ints(months, 1, 12, _("Месяц")),
            days=ints(days, 1, 31, _("Дни месяца")),
            weekdays=ints(weekdays, 1, 7, _("Дни недели")),
            hours=ints(hours, 0, 23, _("Часы")),
            minutes=ints(minutes, 0, 59, _("Минуты")),
        )
        if not rule.minutes:
            raise InvalidRule(_("Выберите хотя бы одно значение минут."))
        return rule

    @classmethod
    def of(cls, schedule: Schedule) -> "Rule":
        return cls.build(
            months=schedule.months,
            days=schedule.days,
            weekdays=schedule.weekdays,
            hours=schedule.hours,
            minutes=schedule.minutes,
        )

    def day_matches(self, day: date) -> bool:
        return (
            (not self.months or day.month in self.months)
            and (not self.days or day.day in self.days)
            and (not self.weekdays or day.isoweekday() in self.weekdays)
        )

    def times(self) -> list[time]:
        hours = sorted(self.hours) if self.hours else range(24)
        return [time(h, m) for h in hours for m in sorted(self.minutes)]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Europe/Moscow")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Moscow")


def occurrences(
    rule: Rule, *, start: datetime, end: datetime, tz: str
) -> Iterator[datetime]:
    """Every matching time with ``start < t <= end`` (aware datetimes), in order."""
    z = zone(tz)
    day = start.astimezone(z).date()
    last = end.astimezone(z).date()
    times = rule.times()
    while day <= last:
        if rule.day_matches(day):
            for t in times:
                at = datetime.combine(day, t, tzinfo=z)
                if start < at <= end:
                    yield at
        day += timedelta(days=1)


def next_after(rule: Rule, after: datetime, tz: str) -> datetime | None:
    """The first matching time strictly after ``after`` (None if none within
    the horizon)."""
    z = zone(tz)
    day = after.astimezone(z).date()
    times = rule.times()
    for _i in range(HORIZON_DAYS):
        if rule.day_matches(day):
            for t in times:
                at = datetime.combine(day, t, tzinfo=z)
                if at > after:
                    return at
        day += timedelta(days=1)
    return None


def describe(rule: Rule) -> str:
    """The manual's sentence: "в сентябре, октябре, 1, 3 числа, если этот день
    выпадает на среду, четверг, в 12:00, 14:00"."""
    parts = []
    if rule.months:
        parts.append(
            pgettext("в каком месяце", "в")
            + " "
            + ", ".join(str(MONTHS_IN[m - 1]) for m in sorted(rule.months))
        )
    else:
        parts.append(_("каждый месяц"))
    if rule.days:
        parts.append(", ".join(str(d) for d in sorted(rule.days)) + " " + _("числа"))
    if rule.weekdays:
        parts.append(
            _("если этот день выпадает на")
            + " "
            + ", ".join(str(WEEKDAYS_ON[w - 1]) for w in sorted(rule.weekdays))
        )
    times = rule.times()
    parts.append(
        _("в")
        + " "
        + ", ".join(t.strftime("%H:%M") for t in times[:12])
        + ("…" if len(times) > 12 else "")
    )
    return ", ".join(parts)


# --- create / run -------------------------------------------------------------


def schedule_upsert(
    *,
    account,
    user,
    schedule: Schedule | None,
    name: str,
    payload: dict,
    timezone: str,
    rule: Rule,
) -> Schedule:
    """Create or change a schedule and plan its next run (``InvalidRule`` when
    no date ever matches)."""
    from django.utils import timezone as dj_tz

    next_run = next_after(rule, dj_tz.now(), timezone)
    if next_run is None:
        raise InvalidRule(_("Под эти условия не попадает ни одна дата."))
    if schedule is None:
        schedule = Schedule(account_id=account.pk, created_by=user)
    schedule.name = name[:200]
    schedule.payload = payload
    schedule.timezone = timezone
    schedule.months = sorted(rule.months)
    schedule.days = sorted(rule.days)
    schedule.weekdays = sorted(rule.weekdays)
    schedule.hours = sorted(rule.hours)
    schedule.minutes = sorted(rule.minutes)
    schedule.next_run_at = next_run
    schedule.save()
    return schedule


def schedule_toggle(*, schedule: Schedule) -> Schedule:
    """Pause or resume; resuming plans from now (missed times are not sent)."""
    schedule.is_active = not schedule.is_active
    if schedule.is_active:
        schedule.next_run_at = next_after(
            Rule.of(schedule), timezone.now(), schedule.timezone
        )
    schedule.save(update_fields=["is_active", "next_run_at"])
    return schedule


def _locked_due(model, now: datetime):
    qs = model.objects.filter(is_active=True, next_run_at__lte=now).order_by(
        "next_run_at"
    )
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True)
    return qs


def launch_payload(
    *, recurring, source: str, client_id: str, extra: dict | None = None
):
    """Launch the stored compose payload as a campaign through the engine."""
    from .compose import launch_kwargs
    from .services import campaign_launch

    account = Account.objects.get(pk=recurring.account_id)
    kwargs = launch_kwargs(recurring.payload)
    kwargs.update(extra or {})
    return campaign_launch(
        account=account,
        channel=recurring.channel,
        source=source,
        created_by=recurring.created_by,
        client_id=client_id,
        **kwargs,
    )


def run_failed(*, recurring, message: str) -> None:
    recurring.last_error = message[:300]
    notify(
        account_id=recurring.account_id,
        title=_("Регулярная рассылка «%(n)s» не отправлена") % {"n": str(recurring)},
        body=message,
        kind=Notification.Kind.INFO,
    )


def schedules_run_due(*, now: datetime | None = None) -> int:
    """Launch every schedule whose time has come; returns campaigns launched."""
    from .models import Source
    from .senders import SenderNotAllowed
    from .services import LaunchError

    now = now or timezone.now()
    launched = 0
    with transaction.atomic():
        for schedule in _locked_due(Schedule, now):
            due = schedule.next_run_at
            rule = Rule.of(schedule)
            schedule.next_run_at = next_after(rule, max(due, now), schedule.timezone)
            if now - due <= MISSED_GRACE:
                stamp = due.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M")
                client_id = f"schedule:{schedule.pk}:{stamp}"
                try:
                    with transaction.atomic():
                        launch_payload(
                            recurring=schedule,
                            source=Source.SCHEDULER,
                            client_id=client_id,
                        )
                except (LaunchError, SenderNotAllowed) as exc:
                    run_failed(recurring=schedule, message=exc.message)
                else:
                    schedule.last_error = ""
                    schedule.runs += 1
                    launched += 1
                schedule.last_run_at = due
            else:
                log.warning("schedule %s missed %s", schedule.pk, due)
            schedule.save(
                update_fields=["next_run_at", "last_run_at", "runs", "last_error"]
            )
    return launched


@shared_task(name="messaging.scheduling.run_due", ignore_result=True)
def run_due() -> None:
    """Periodic (beat, every minute): due schedules and greetings."""
    from .greetings import greetings_run_due

    schedules_run_due()
    greetings_run_due()
