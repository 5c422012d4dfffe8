"""Per-token rate limits (fixed window, counted in the Django cache — Redis in
production, so every worker shares the counter).

``API_RATE_LIMIT`` (settings/env) is ``"<requests>/<period>"`` with period
``s``, ``m``, ``h`` or ``d`` (e.g. ``"20000/m"``).  Counting costs one round
trip to Redis (INCRBY and EXPIRE in one script) per request, or per batch of
requests for large limits (``_LocalBatches``) — the counting itself is
cabinet.ratelimit's, like every throttle's; DRF's ``SimpleRateThrottle``
keeps a list of timestamps per key instead, which grows with the rate."""

import threading
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from cabinet import ratelimit

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    num, _, period = (rate or "").partition("/")
    return int(num), PERIODS[period.strip()[:1] or "m"]


def token_hit(token_id: int, *, rate: str | None = None) -> float | None:
    """Count one request of the token; ``None`` when allowed, else the seconds
    until the window resets (for ``Retry-After``)."""
    limit, period = parse_rate(rate or settings.API_RATE_LIMIT)
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // period)
    key = f"api-rate:{token_id}:{period}:{window}"
    batch = limit // BATCH_DIVISOR
    if batch > 1:
        count = _LOCAL.hit(key, period + 1, batch)
    else:
        count = _count(key, period + 1)
    if count > limit:
        return max((window + 1) * period - now, 1.0)
    return None


# A process counts up to limit/BATCH_DIVISOR requests of a window locally before
# it adds them to the shared counter: a token may exceed its limit by at most
# 0.1 % per server process, and a busy token costs one Redis call per batch,
# not per request.  Small limits (under 2,000 per period) are counted exactly.
BATCH_DIVISOR = 1000


class _LocalBatches:
    def __init__(self):
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}  # key → hits not yet in the cache
        self._known: dict[str, int] = {}  # key → the shared count last seen

    def hit(self, key: str, timeout: int, batch: int) -> int:
        with self._lock:
            if key not in self._known:
                # A new window: forget the old ones of this process.
                prefix = key.rsplit(":", 1)[0] + ":"
                for old in [k for k in self._known if k.startswith(prefix)]:
                    self._known.pop(old, None)
                    self._pending.pop(old, None)
                self._known[key] = 0
            pending = self._pending.get(key, 0) + 1
            if pending < batch:
                self._pending[key] = pending
                return self._known[key] + pending
            self._pending[key] = 0
        shared = _count(key, timeout, pending)
        with self._lock:
            self._known[key] = max(self._known.get(key, 0), shared)
            return shared + self._pending.get(key, 0)


_LOCAL = _LocalBatches()


def _count(key: str, timeout: int, amount: int = 1) -> int:
    """Add ``amount`` to the window's counter and return it (one round trip on
    Redis: cabinet.ratelimit)."""
    return ratelimit.hit(key, timeout, amount)


class TokenRateThrottle(BaseThrottle):
    """DRF throttle keyed by the API token (not the IP)."""

    def allow_request(self, request, view):
        token = getattr(getattr(request, "user", None), "token", None)
        if token is None:
            return True
        self._wait = token_hit(token.pk)
        return self._wait is None

    def wait(self):
        return getattr(self, "_wait", None)
