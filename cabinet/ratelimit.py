"""Counting for every throttle and limit: atomic, so concurrent requests can
never get past a limit together.

A throttle that reads its counter, does its work and increments afterwards
lets every request that read before the first increment through — 40
concurrent guesses against a limit of 10 got about 30 through.  Here a request
*reserves* its place first, in one atomic step over all its counters (one Lua
script on Redis; under a process-wide lock on the other caches, which are
per-process or local to one machine anyway):

* ``reserve(limits, window)`` — refused (with the seconds to wait) when any
  counter is at its limit, otherwise every counter is incremented;
* ``release(limits)`` — gives the place back when the attempt turned out not to
  count (a right password, a code that exists); ``reset(limits)`` forgets the
  counters (an account's failures once its owner signed in);
* ``penalise(limits, window)`` — back-off: a counter that reached its limit
  stays locked for ``window × 2^(n-1)`` seconds for its n-th lock within a day
  (at most a day).

``hit(key, timeout, amount)`` is the plain atomic counter (the API's rate
limit).  Keys are cache keys: the cache's prefix and version apply.
"""

import math
import threading
import time
from dataclasses import dataclass

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache

STRIKES_TTL = 24 * 3600  # a lock counts towards the back-off for a day
MAX_LOCK = 24 * 3600


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int


# --- Redis: one script per operation, one round trip --------------------------

_HIT = (
    "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) "
    "if n == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "return n"
)
# KEYS: counters; ARGV[1]: window; ARGV[i + 1]: the limit of KEYS[i].
_RESERVE = """
local wait = 0
for i, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  if n >= tonumber(ARGV[i + 1]) then
    wait = math.max(wait, redis.call('TTL', key), 1)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return 0
"""
_RELEASE = """
for _, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  if n > 0 then redis.call('DECR', key) end
end
return 0
"""
# KEYS: counter, its strikes; ARGV: limit, window, strikes ttl, max lock.
_PENALISE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n < tonumber(ARGV[1]) then return 0 end
local strikes = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
local lock = math.min(tonumber(ARGV[2]) * 2 ^ (strikes - 1), tonumber(ARGV[4]))
redis.call('EXPIRE', KEYS[1], math.floor(lock))
return math.floor(lock)
"""

_clients: dict[int, object] = {}


def _redis():
    """The Redis client behind the default cache, made once per process
    (Django's ``get_client`` builds a new client on every call), or ``None``
    when the cache is not Redis."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return None
    client = _clients.get(id(backend._cache))
    if client is None:
        client = backend._cache.get_client(None, write=True)
        _clients[id(backend._cache)] = client
    return client


def _key(key: str) -> str:
    return cache.make_and_validate_key(key)


# --- other caches: (count, expires_at) under one lock per process -------------

_lock = threading.Lock()


def _get(key: str) -> tuple[int, float]:
    value = cache.get(key)
    if not value or value[1] <= time.time():
        return 0, 0.0
    return value


def _set(key: str, count: int, expires_at: float) -> None:
    cache.set(key, (count, expires_at), max(1, math.ceil(expires_at - time.time())))


# --- the operations -----------------------------------------------------------------


def hit(key: str, timeout: int, amount: int = 1) -> int:
    """Add ``amount`` to the counter (created with a lifetime of ``timeout``
    seconds) and return its new value."""
    client = _redis()
    if client is not None:
        return int(client.eval(_HIT, 1, _key(key), timeout, amount))
    with _lock:
        count, expires_at = _get(key)
        if not count:
            expires_at = time.time() + timeout
        _set(key, count + amount, expires_at)
        return count + amount


def reserve(limits: list[Limit], window: int) -> float | None:
    """Count one attempt against every limit, or none when any is reached:
    ``None`` when allowed, else the seconds until the first one frees up."""
    if not limits:
        return None
    client = _redis()
    if client is not None:
        wait = client.eval(
            _RESERVE,
            len(limits),
            *[_key(x.key) for x in limits],
            window,
            *[x.limit for x in limits],
        )
        return float(wait) if int(wait) else None
    with _lock:
        now = time.time()
        current = [_get(x.key) for x in limits]
        blocked = [
            expires_at - now
            for x, (count, expires_at) in zip(limits, current, strict=True)
            if count >= x.limit
        ]
        if blocked:
            return max(1.0, max(blocked))
        for x, (count, expires_at) in zip(limits, current, strict=True):
            _set(x.key, count + 1, expires_at if count else now + window)
    return None


def release(limits: list[Limit]) -> None:
    """Give back the attempt ``reserve`` counted."""
    if not limits:
        return
    client = _redis()
    if client is not None:
        client.eval(_RELEASE, len(limits), *[_key(x.key) for x in limits])
        return
    with _lock:
        for x in limits:
            count, expires_at = _get(x.key)
            if count > 0:
                _set(x.key, count - 1, expires_at)


def reset(limits: list[Limit]) -> None:
    """Forget the counters (not their back-off history): a sign-in that
    succeeded clears its account's failures."""
    cache.delete_many([x.key for x in limits])


def penalise(limits: list[Limit], window: int) -> float | None:
    """Back-off after a failed attempt: every counter at its limit is locked
    for ``window × 2^(n-1)`` seconds (its n-th lock within a day, at most a
    day).  Returns the longest lock set, if any."""
    longest = None
    client = _redis()
    for x in limits:
        strikes_key = x.key + ":strikes"
        if client is not None:
            lock = int(
                client.eval(
                    _PENALISE,
                    2,
                    _key(x.key),
                    _key(strikes_key),
                    x.limit,
                    window,
                    STRIKES_TTL,
                    MAX_LOCK,
                )
            )
        else:
            with _lock:
                count, _expires_at = _get(x.key)
                if count < x.limit:
                    continue
                strikes, _ = _get(strikes_key)
                now = time.time()
                _set(strikes_key, strikes + 1, now + STRIKES_TTL)
                lock = min(window * 2**strikes, MAX_LOCK)
                _set(x.key, count, now + lock)
        if lock:
            longest = max(longest or 0, lock)
    return longest


def minutes(seconds: float) -> int:
    """Whole minutes to show a user (at least one)."""
    return max(1, math.ceil(seconds / 60))
