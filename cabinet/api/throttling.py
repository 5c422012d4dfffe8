"""Per-token rate limits (fixed window, counted in the Django cache — Redis in
production, so every worker shares the counter).

``API_RATE_LIMIT`` (settings/env) is ``"<requests>/<period>"`` with period
``s``, ``m``, ``h`` or ``d`` (e.g. ``"20000/m"``).  A window costs one cache
``add`` and one ``incr``; DRF's ``SimpleRateThrottle`` keeps a list of
timestamps per key instead, which grows with the rate."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

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
    if cache.add(key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
    if count > limit:
        return max((window + 1) * period - now, 1.0)
    return None


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
