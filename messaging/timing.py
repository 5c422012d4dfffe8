"""When each message of a campaign may go: smooth sending (equal portions at
intervals) and the allowed window in the recipient's local time."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Europe/Moscow"
MAX_TTL_SECONDS = 12 * 3600


class TimingError(ValueError):
    """Bad smooth/window/TTL options; the message is for the user."""


@dataclass(frozen=True)
class Window:
    start: time
    end: time
    weekdays: frozenset[int]  # ISO 1..7

    def allows(self, local: datetime) -> bool:
        if local.isoweekday() not in self.weekdays:
            return False
        t = local.time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # overnight window, e.g. 21:00–09:00


@dataclass(frozen=True)
class Smooth:
    portions: int
    interval: timedelta


def _parse_hhmm(value: str, name: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise TimingError(
            f"Неверное время «{value}» в поле {name}: нужно ЧЧ:ММ."
        ) from None


def parse_window(raw) -> Window | None:
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise TimingError("Разрешённое время отправки задано неверно.")
    start = _parse_hhmm(raw.get("from", "00:00"), "«с»")
    end = _parse_hhmm(raw.get("to", "23:59"), "«до»")
    if start == end:
        raise TimingError("Начало и конец разрешённого времени отправки совпадают.")
    weekdays = raw.get("weekdays") or [1, 2, 3, 4, 5, 6, 7]
    try:
        days = frozenset(int(d) for d in weekdays)
    except (TypeError, ValueError):
        raise TimingError("Дни недели заданы неверно.") from None
    if not days or not days <= set(range(1, 8)):
        raise TimingError("Дни недели — числа от 1 (понедельник) до 7 (воскресенье).")
    return Window(start, end, days)


def parse_smooth(raw) -> Smooth | None:
    if not raw:
        return None
    try:
        portions = int(raw.get("portions", 0))
        minutes = int(raw.get("interval_minutes", 0))
    except (AttributeError, TypeError, ValueError):
        raise TimingError("Параметры плавной отправки заданы неверно.") from None
    if portions < 2 or portions > 1000:
        raise TimingError("Плавная отправка: число порций от 2 до 1000.")
    if minutes < 1 or minutes > 24 * 60:
        raise TimingError("Плавная отправка: интервал от 1 минуты до 24 часов.")
    return Smooth(portions, timedelta(minutes=minutes))


def parse_ttl(raw, max_seconds: int = MAX_TTL_SECONDS) -> int | None:
    """A message lifetime in seconds: from 1 minute to ``max_seconds`` (12
    hours unless the channel allows more: ``ChannelKind.max_ttl``)."""
    if raw in (None, "", 0):
        return None
    try:
        ttl = int(raw)
    except (TypeError, ValueError):
        raise TimingError("Время жизни сообщения задано неверно.") from None
    if ttl < 60 or ttl > max_seconds:
        raise TimingError(
            f"Время жизни сообщения — от 1 минуты до {max_seconds // 3600} часов."
        )
    return ttl


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def next_allowed(at: datetime, tz_name: str, window: Window) -> datetime:
    """The first instant at or after ``at`` inside the window, in the
    recipient's zone (minute precision)."""
    tz = zone(tz_name)
    local = at.astimezone(tz)
    if window.allows(local):
        return at
    # Walk day by day to the next window opening (at most 8 days).
    candidate = local.replace(second=0, microsecond=0)
    for _ in range(9):
        opening = candidate.replace(hour=window.start.hour, minute=window.start.minute)
        if opening >= local and window.allows(opening):
            return opening.astimezone(at.tzinfo)
        candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0)
        if window.allows(candidate) and candidate >= local:
            return candidate.astimezone(at.tzinfo)
    return at


class SendPlanner:
    """Computes ``send_at`` for the i-th of n recipients; cheap per recipient
    (results cached per zone and portion)."""

    def __init__(
        self,
        *,
        start: datetime,
        total: int,
        smooth: Smooth | None,
        window: Window | None,
    ):
        self.start = start
        self.total = max(total, 1)
        self.smooth = smooth
        self.window = window
        self._cache: dict[tuple[int, str], datetime] = {}

    def send_at(self, index: int, tz_name: str) -> datetime:
        portion = 0
        if self.smooth:
            portion = min(
                index * self.smooth.portions // self.total, self.smooth.portions - 1
            )
        key = (portion, tz_name if self.window else "")
        found = self._cache.get(key)
        if found is None:
            found = self.start + (
                self.smooth.interval * portion if self.smooth else timedelta()
            )
            if self.window:
                found = next_allowed(found, tz_name, self.window)
            self._cache[key] = found
        return found
