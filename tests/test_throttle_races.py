"""Throttles that race: 40 concurrent requests against a limit used to get
about three times the limit through (each read the counter, did its work and
incremented afterwards).  Counting is now atomic (cabinet.ratelimit): exactly
the limit gets through — on the per-process cache the tests use and on Redis,
which production shares between processes."""

import os
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection

from cabinet import ratelimit

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 40


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    if request.param == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("needs Redis (REDIS_URL)")
        prefix = f"test-race-{uuid.uuid4().hex[:8]}"
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": os.environ["REDIS_URL"],
                "KEY_PREFIX": prefix,
            }
        }
        yield "redis"
        client = ratelimit._redis()
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    else:
        yield "locmem"


def _race(func, n=THREADS) -> Counter:
    """Run ``func(i)`` in ``n`` threads released at once; count the outcomes
    (its return value, or the exception's class name)."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i):
        barrier.wait()
        try:
            outcome = func(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is the point
            outcome = type(exc).__name__
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return Counter(outcomes)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_promo_code_check_lets_exactly_its_limit_through(
    cache_backend, user, settings
):
    from promo.services import manager_create, promo_code_check

    clerk = manager_create(
        account_id=user.account_id, name="Анна", login="anna", password="pass-1234"
    )
    limit = settings.PROMO_CHECK_FAILURES_PER_MANAGER

    def guess(i):
        return promo_code_check(
            account_id=user.account_id,
            code=f"Z{i:05d}",
            manager_id=clerk.pk,
            ip=f"10.0.{i}.1",
        ).status

    outcomes = _race(guess)
    assert outcomes == {"unknown": limit, "PromoThrottled": THREADS - limit}


def test_the_promo_manager_sign_in_lets_exactly_its_limit_through(
    cache_backend, user, settings
):
    from promo.services import manager_authenticate, manager_create

    manager_create(
        account_id=user.account_id, name="Анна", login="anna", password="pass-1234"
    )
    limit = settings.PROMO_LOGIN_FAILURES_PER_LOGIN

    def sign_in(i):
        manager_authenticate(login="anna", password=f"wrong-{i}", ip=f"10.1.{i}.1")
        return "signed in"

    outcomes = _race(sign_in)
    assert outcomes == {"PromoError": limit, "PromoThrottled": THREADS - limit}


def test_the_cabinet_sign_in_lets_exactly_its_limit_through(
    cache_backend, make_user, settings
):
    from django.test import Client

    user = make_user("victim@example.com")
    limit = settings.SIGNIN_FAILURES_PER_ACCOUNT

    def sign_in(i):
        response = Client(REMOTE_ADDR=f"10.2.{i}.1").post(
            "/login/", {"username": user.email, "password": f"wrong-{i}"}
        )
        return response.status_code

    outcomes = _race(sign_in)
    assert outcomes == {200: limit, 429: THREADS - limit}


def test_the_legacy_balance_call_lets_exactly_its_limit_through(
    cache_backend, user
):
    from django.test import Client

    from integrations.services import FAILURES_LIMIT

    def balance(i):
        response = Client(REMOTE_ADDR="10.3.0.1").get(
            "/lcabApi/info.php", {"login": "nobody", "password": f"wrong-{i}"}
        )
        return response.json()["code"]  # 3: wrong login or password, 6: too many

    outcomes = _race(balance)
    assert outcomes == {3: FAILURES_LIMIT, 6: THREADS - FAILURES_LIMIT}


def test_a_right_answer_gives_its_place_back(cache_backend):
    limits = [ratelimit.Limit(f"give-back-{uuid.uuid4().hex}", 3)]
    for _ in range(10):  # ten successes in a row: never throttled
        assert ratelimit.reserve(limits, 60) is None
        ratelimit.release(limits)
    for _ in range(3):
        assert ratelimit.reserve(limits, 60) is None
    assert ratelimit.reserve(limits, 60) is not None


def test_each_lock_lasts_twice_as_long_as_the_one_before(cache_backend):
    from django.core.cache import cache

    limits = [ratelimit.Limit(f"back-off-{uuid.uuid4().hex}", 2)]
    locks = []
    for _round in range(3):
        for _ in range(2):
            assert ratelimit.reserve(limits, 60) is None
            ratelimit.penalise(limits, 60)
        wait = ratelimit.reserve(limits, 60)
        assert wait is not None
        locks.append(wait)
        cache.delete(limits[0].key)  # the lock has run out
    assert [round(w / 60) for w in locks] == [1, 2, 4], locks
