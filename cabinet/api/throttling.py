"""Per-token rate limits (fixed window, counted in the Django cache — Redis in
production, so every worker shares the counter).

``API_RATE_LIMIT`` (settings/env) is ``"<requests>/<period>"`` with period
``s``, ``m``, ``h`` or ``d`` (e.g. ``"20000/m"``).  Counting costs one round
trip to Redis (INCRBY and EXPIRE in one script) per request, or per batch of
requests for large limits (``_LocalBatches``); DRF's ``SimpleRateThrottle``
keeps a list of timestamps per key instead, which grows with the rate."""

import threading
import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
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
    """Add ``amount`` to the window's counter and return it: one round trip on
    Redis (INCRBY + EXPIRE in one Lua call), ``add``/``incr`` on other caches."""
    client = _redis_client(key)
    if client is not None:
        full_key = cache.make_and_validate_key(key)
        return int(client.eval(_INCR_EXPIRE, 1, full_key, timeout, amount))
    if cache.add(key, amount, timeout=timeout):
        return 1
    try:
        return cache.incr(key, amount)
    except ValueError:  # expired between add and incr
        cache.add(key, amount, timeout=timeout)
        return amount


_clients: dict[int, object] = {}
# INCR, and a lifetime for a new window's key: one command, one round trip.
_INCR_EXPIRE = (
    "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) "
    "if n == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "return n"
)


def _redis_client(key: str):
    """The Redis client behind the default cache, made once per process:
    Django's ``get_client`` builds a new client (and its ~170 response
    callbacks) on every call."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return None
    client = _clients.get(id(backend._cache))
    if client is None:
        client = backend._cache.get_client(key, write=True)
        _clients[id(backend._cache)] = client
    return client


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
