"""Calendar periods of own-name packages: from a day to the last day of its
month (manual 5.4: not 31 days, the rest of the calendar month)."""

import calendar
from datetime import date, timedelta

from django.utils import timezone


def today() -> date:
    return timezone.localdate()


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month_start(day: date) -> date:
    return month_end(day) + timedelta(days=1)
