"""``bench api`` used to flush its Redis database (13 by default) before and
after a run, erasing whatever else lived there.  It now deletes only the keys
it created."""

import pytest
import redis

from tests.ops.conftest import child_database_url, needs_postgres

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    needs_postgres,
]


def test_bench_api_deletes_only_what_it_created(private_redis, monkeypatch):
    from bench import api

    bench_db = redis.Redis.from_url(private_redis.url(13))
    bench_db.set("someone:else", "keep me")
    bench_db.rpush("celery", "someone else's queued task")
    monkeypatch.setenv("REDIS_URL", private_redis.url(0))
    monkeypatch.setenv("DATABASE_URL", child_database_url())
    cleaned = []
    real_cleanup = api._cleanup_redis
    monkeypatch.setattr(
        api,
        "_cleanup_redis",
        lambda url, ns: cleaned.append((url, ns, real_cleanup(url, ns))),
    )

    result = api.run(
        clients=2,
        requests=20,
        workers=1,
        threads=2,
        bulk_runs=1,
        warmup=0,
        split=0,
        server="gunicorn",
    )

    assert result["requests"] == 20 and result["errors"] == 0, result
    # The run did use that database (its rate-limit counters, its queue)...
    assert cleaned and cleaned[0][0] == private_redis.url(13)
    assert sum(n for _url, _ns, n in cleaned) > 0
    namespace = cleaned[0][1]
    assert not list(bench_db.scan_iter(match=f"*{namespace}*"))
    # ...and left everything else as it was.
    assert bench_db.get("someone:else") == b"keep me"
    assert bench_db.lrange("celery", 0, -1) == [b"someone else's queued task"]
