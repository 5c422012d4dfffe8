"""Per-token rate limits: exact for small limits, counted in batches per process
for large ones, one Redis round trip per count (cabinet/api/throttling.py)."""

import os
import time
import uuid

import pytest

from cabinet import ratelimit
from cabinet.api import throttling
from cabinet.api.throttling import token_hit


@pytest.fixture(autouse=True)
def _fresh_batches(monkeypatch):
    monkeypatch.setattr(throttling, "_LOCAL", throttling._LocalBatches())


def test_a_small_limit_is_exact():
    assert [token_hit(1, rate="3/m") for _ in range(3)] == [None, None, None]
    wait = token_hit(1, rate="3/m")
    assert wait is not None and 1 <= wait <= 60
    assert token_hit(2, rate="3/m") is None  # per token


def test_a_large_limit_is_counted_in_batches_and_still_enforced(monkeypatch):
    calls = []
    real = throttling._count

    def counting(key, timeout, amount=1):
        calls.append(amount)
        return real(key, timeout, amount)

    monkeypatch.setattr(throttling, "_count", counting)
    limit = 5000  # batches of 5
    allowed = sum(1 for _ in range(limit) if token_hit(7, rate=f"{limit}/m") is None)
    assert allowed == limit
    assert len(calls) == limit // 5 and set(calls) == {5}
    # Over the limit: refused from then on, within one batch.
    refused = [token_hit(7, rate=f"{limit}/m") for _ in range(10)]
    assert all(wait is not None for wait in refused[5:])


def test_two_processes_share_the_window_through_the_cache():
    other = throttling._LocalBatches()
    limit = 2000  # batches of 2
    for _ in range(1000):
        assert token_hit(9, rate=f"{limit}/m") is None
    key = f"api-rate:9:60:{int(time.time() // 60)}"
    # The second process's first batch sees the first process's count.
    other.hit(key, 61, 2)
    assert other.hit(key, 61, 2) >= 1000


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis")
def test_on_redis_one_script_counts_and_expires(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": f"test-throttle-{uuid.uuid4().hex[:8]}",
        }
    }
    token = 424242
    assert token_hit(token, rate="2/m") is None
    assert token_hit(token, rate="2/m") is None
    assert token_hit(token, rate="2/m") is not None
    client = ratelimit._redis()
    keys = client.keys(f"{settings.CACHES['default']['KEY_PREFIX']}*api-rate:{token}:*")
    assert len(keys) == 1
    assert 0 < client.ttl(keys[0]) <= 61
    client.delete(*keys)
