"""``manage.py bench api``: the JSON API v1.0 send path under concurrent clients.

Starts the production server setup itself — uWSGI with ``deploy/uwsgi.ini``
(``pip install -e '.[server]'``; gunicorn gthread with ``--server gunicorn`` or
when uWSGI is not installed) on 127.0.0.1 on a free port, with this
process's PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``, on a separate
database number) — creates a throw-away account with a "messaging" token, then:

1. ``--clients`` concurrent keep-alive HTTP clients POST
   ``/json/v1.0/sms/send/text`` with one message each (unique ``id``) until
   ``--requests`` are done: requests/s, p50/p99 latency, errors;
2. a 1,000-message request (``--bulk-runs`` times): its latency.

Everything the run puts into Redis carries its own name (the server's cache
prefix and Celery queue are ``bench-api-<random>``) and only that is deleted at
the end: a benchmark never erases data it did not create.

Run on PostgreSQL + Redis::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_api \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python manage.py bench api
"""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


def add_arguments(parser):
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--bulk-runs", type=int, default=5)
    parser.add_argument(
        "--redis-db",
        type=int,
        default=13,
        help="Redis database for the server's broker/cache (only the run's own "
        "keys are deleted afterwards)",
    )
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--split",
        type=int,
        default=300,
        help="in-process one-message requests timing campaign_launch's CPU share",
    )
    parser.add_argument(
        "--server",
        choices=["uwsgi", "gunicorn"],
        default="",
        help="web server (default: uWSGI with deploy/uwsgi.ini when installed — "
        "pip install -e '.[server]' — else gunicorn gthread)",
    )
    parser.add_argument(
        "--rate-limit",
        default="120000/m",
        help="API_RATE_LIMIT of the server: one token at 500 req/s is 30,000/min, "
        "over the default 20000/m (an integrator's contracted limit)",
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=1,
        help="spread clients over N accounts (1 = one integrator)",
    )


SERVER_LOG = Path(settings.VAR_DIR) / "bench-api-server.log"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_url(db: int) -> str:
    base = os.environ.get("REDIS_URL") or settings.REDIS_URL or ""
    if not base:
        return ""
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def _setup_account():
    from billing.services import account_credit
    from cabinet.models import Account
    from cabinet.services import account_create, token_create

    user = account_create(
        email=f"bench-api-{uuid.uuid4().hex[:10]}@example.com",
        password=uuid.uuid4().hex,
    )
    account_credit(
        account_id=user.account_id, amount=Decimal("100000000"), reason="bench api"
    )
    # A trusted account: its sends skip moderation, as a real integrator's do.
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    return user, token_create(account=user.account, scopes=["messaging"]).key


def _start_server(
    port: int,
    workers: int,
    threads: int,
    redis_url: str,
    rate_limit: str,
    server: str,
    namespace: str,
) -> subprocess.Popen:
    env = {
        **os.environ,
        # The run's cache keys and broker queue, and nothing else, are its own.
        "CACHE_PREFIX": namespace,
        "CELERY_QUEUE": namespace,
        "API_RATE_LIMIT": rate_limit,
        "DEBUG": "0",
        # A throw-away server on this machine: development secrets allowed.
        "DEVELOPMENT": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    if server == "uwsgi":
        cmd = [
            str(Path(sys.executable).with_name("uwsgi")),
            "deploy/uwsgi.ini",
            "--http11-socket",
            f"127.0.0.1:{port}",
            "--processes",
            str(workers),
            "--threads",
            str(threads),
        ]
    else:
        cmd = _gunicorn(port, workers, threads)
    # The server's log goes to a file: a pipe nobody reads would fill up and
    # block the workers.
    log = open(SERVER_LOG, "wb")  # noqa: SIM115 - closed by _stop_server
    proc = subprocess.Popen(
        cmd,
        cwd=str(Path(settings.BASE_DIR)),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log_file = log
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{server} exited: " + SERVER_LOG.read_text(errors="replace")[-2000:]
            )
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status < 500:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{server} did not start in 60 s")


def _gunicorn(port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "cabinet.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
    ]


def _stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.log_file.close()


def _post(conn, key: str, body: bytes) -> tuple[int, dict]:
    conn.request(
        "POST",
        "/json/v1.0/sms/send/text",
        body=body,
        headers={"Content-Type": "application/json", "X-Token": key},
    )
    response = conn.getresponse()
    return response.status, json.loads(response.read())


class _KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client for the one-message load: the
    request's bytes are formatted directly and the answer is read by its
    Content-Length.  ``http.client`` parses every response's headers through
    the email package — several times this client's CPU, taken from the same
    two cores the server under test runs on."""

    def __init__(self, port: int, key: str):
        self.port = port
        self.head = (
            "POST /json/v1.0/sms/send/text HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nX-Token: {key}\r\n"
            "Content-Length: "
        ).encode()
        self.sock = None
        self.buf = b""

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def post(self, body: bytes) -> tuple[int, dict]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.buf = b""
        self.sock.sendall(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        while b"\r\n\r\n" not in self.buf:
            self._read()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        fields = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(b":") for line in lines[1:])
        )
        length = int(fields[b"content-length"])
        while len(rest) < length:
            self._read()
            rest = self.buf.partition(b"\r\n\r\n")[2]
        self.buf = rest[length:]
        if fields.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, json.loads(rest[:length])

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def _drive(port: int, keys: list[str], clients: int, total: int, prefix: str):
    lock = threading.Lock()
    state = {"next": 0}
    latencies: list[float] = []
    errors: list[str] = []

    def client(n: int):
        conn = _KeepAliveClient(port, keys[n % len(keys)])
        mine: list[float] = []
        while True:
            with lock:
                i = state["next"]
                if i >= total:
                    break
                state["next"] = i + 1
            body = json.dumps(
                {
                    "messages": [
                        {
                            "recipient": f"7916{i % 10_000_000:07d}",
                            "id": f"{prefix}-{i}",
                            "text": "Ваш код подтверждения 4821",
                            "recipientType": "recipient",
                        }
                    ]
                }
            ).encode()
            started = time.perf_counter()
            try:
                status, data = conn.post(body)
            except (OSError, ValueError, KeyError, IndexError) as exc:
                conn.close()
                with lock:
                    errors.append(repr(exc)[:200])
                continue
            mine.append(time.perf_counter() - started)
            if (
                status != 200
                or not data.get("success")
                or not data["result"]["messages"][0]["success"]
            ):
                with lock:
                    errors.append(json.dumps(data, ensure_ascii=False)[:200])
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, errors


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _bulk(port: int, key: str, runs: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for _run in range(runs):
        tag = uuid.uuid4().hex[:8]
        body = json.dumps(
            {
                "messages": [
                    {
                        "recipient": f"7903{i:07d}",
                        "id": f"bulk-{tag}-{i}",
                        "text": "Скидка 10% на всё до воскресенья",
                    }
                    for i in range(1000)
                ]
            }
        ).encode()
        started = time.perf_counter()
        status, data = _post(conn, key, body)
        times.append(time.perf_counter() - started)
        if status != 200 or data["result"]["accepted"] != 1000:
            raise RuntimeError(f"bulk request failed: {str(data)[:300]}")
    conn.close()
    return times


def _cleanup_redis(redis_url: str, namespace: str) -> int:
    """Delete the keys this run created in the bench's Redis database — the
    server's cache keys (``<namespace>:…``) and its Celery queue (``<namespace>``,
    its priority lists, kombu's bindings ``_kombu.binding….<namespace>``) — and
    nothing else: every such key contains the run's random namespace.  Returns
    how many were deleted."""
    import redis

    client = redis.Redis.from_url(redis_url)
    deleted = 0
    batch = []
    for name in client.scan_iter(match=f"*{namespace}*", count=1000):
        batch.append(name)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


def _split(key: str, n: int, redis_url: str, namespace: str) -> dict:
    """CPU per one-message request in this process: through Django (test
    client, the same middleware and view — the path of every request the fast
    lane hands on) with the part spent in ``campaign_launch``, and through the
    fast lane."""
    from django.test import Client

    from cabinet.celery import app
    from messaging import services

    if redis_url:
        # Dispatch tasks go to the bench's Redis db, into the run's own queue.
        app.conf.broker_url = redis_url
        app.conf.task_default_queue = namespace
    real = services.campaign_launch
    spent = {"cpu": 0.0}

    def timed(**kwargs):
        started = time.process_time()
        try:
            return real(**kwargs)
        finally:
            spent["cpu"] += time.process_time() - started

    client = Client()
    tag = uuid.uuid4().hex[:8]

    def one(i):
        body = json.dumps(
            {
                "messages": [
                    {
                        "recipient": f"7926{i:07d}",
                        "id": f"split-{tag}-{i}",
                        "text": "Код 1234",
                    }
                ]
            }
        )
        resp = client.post(
            "/json/v1.0/sms/send/text",
            body,
            content_type="application/json",
            HTTP_X_TOKEN=key,
        )
        if resp.status_code != 200:
            raise RuntimeError(resp.content[:300])

    services.campaign_launch = timed
    try:
        for i in range(20):
            one(i)
        spent["cpu"] = 0.0
        started = time.process_time()
        for i in range(20, 20 + n):
            one(i)
        total = time.process_time() - started
    finally:
        services.campaign_launch = real
    lane = _lane_cpu(key, n, tag)
    return {
        "django_path_cpu_ms": round(total / n * 1000, 2),
        "campaign_launch_cpu_ms": round(spent["cpu"] / n * 1000, 2),
        **lane,
    }


def _lane_cpu(key: str, n: int, tag: str) -> dict:
    """CPU of this process and of its PostgreSQL backend per one-message send
    through the fast lane (``integrations.fastlane.serve``), one at a time."""
    import io

    from django.db import connection

    from integrations import fastlane

    def backend_cpu(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the database is on another machine
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def one(i):
        body = json.dumps(
            {
                "messages": [
                    {
                        "recipient": f"7927{i:07d}",
                        "id": f"lane-{tag}-{i}",
                        "text": "Код 1234",
                    }
                ]
            }
        ).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/json/v1.0/sms/send/text",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "HTTP_X_TOKEN": key,
            "REMOTE_ADDR": "127.0.0.1",
        }
        if fastlane.serve(environ, body) is None:
            raise RuntimeError("the fast lane handed the bench's request to Django")

    for i in range(20):
        one(i)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db_before, started = backend_cpu(pid), time.process_time()
    for i in range(20, 20 + n):
        one(i)
    total, db = time.process_time() - started, backend_cpu(pid) - db_before
    return {
        "fast_lane_cpu_ms": round(total / n * 1000, 2),
        "fast_lane_db_cpu_ms": round(db / n * 1000, 2),
    }


def run(
    *,
    clients: int = 16,
    requests: int = 4000,
    workers: int = 4,
    threads: int = 4,
    bulk_runs: int = 5,
    redis_db: int = 13,
    warmup: int = 200,
    accounts: int = 1,
    split: int = 300,
    rate_limit: str = "120000/m",
    server: str = "",
) -> dict:
    from django.core.management import call_command

    server_kind = server or (
        "uwsgi" if Path(sys.executable).with_name("uwsgi").exists() else "gunicorn"
    )
    call_command("migrate", verbosity=0)  # the bench database follows the code
    keys = [_setup_account()[1] for _ in range(max(accounts, 1))]
    key = keys[0]
    redis_url = _redis_url(redis_db)
    namespace = f"bench-api-{uuid.uuid4().hex[:10]}"
    port = _free_port()
    server = _start_server(
        port, workers, threads, redis_url, rate_limit, server_kind, namespace
    )
    try:
        prefix = uuid.uuid4().hex[:8]
        _drive(port, keys, clients, warmup, f"warm-{prefix}")
        elapsed, latencies, errors = _drive(port, keys, clients, requests, prefix)
        bulk = _bulk(port, key, bulk_runs)
    finally:
        _stop_server(server)
        if redis_url:
            _cleanup_redis(redis_url, namespace)
    ok = len(latencies)
    try:
        cpu = _split(key, split, redis_url, namespace) if split else {}
    finally:
        if redis_url:
            _cleanup_redis(redis_url, namespace)
    return {
        "benchmark": "api",
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "server": f"{server_kind} {workers}x{threads}",
        "rate_limit": rate_limit,
        "clients": clients,
        "accounts": len(keys),
        "requests": ok,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "requests_per_s": round(ok / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "bulk_1000_ms_median": round(statistics.median(bulk) * 1000, 1),
        "bulk_1000_ms_best": round(min(bulk) * 1000, 1),
        **cpu,
        "load_average": os.getloadavg()[0],
    }
