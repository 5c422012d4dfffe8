"""``manage.py bench chat``: the online chat's WebSockets on one server process.

Starts ``uvicorn cabinet.asgi:application`` (one process, as ``make run`` does)
on a free port with this process's database and — when ``REDIS_URL`` is set —
the Redis channel layer and cache under the run's own prefix (only those keys
are deleted afterwards).  A throw-away account gets a site and an operator, then:

1. ``--connections`` widget visitors connect from the site's origin (the
   server's RSS before and after: memory per connection);
2. one operator console connects (a real session cookie);
3. ``--rounds`` times each visitor writes once, paced over ``--spread`` seconds,
   and the operator answers each message as it arrives: the delivery time of
   visitor → operator and operator → visitor messages (send to receipt through
   the server, its database write included), p50/p99.

    DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/7 \\
    .venv/bin/python manage.py bench chat --connections 500
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings


def add_arguments(parser):
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--spread", type=float, default=10.0)
    parser.add_argument("--operators", type=int, default=5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _setup(namespace: str, operators: int):
    from django.contrib.sessions.backends.db import SessionStore

    from cabinet.services import account_create
    from chat import services

    user = account_create(
        email=f"{namespace}@example.com", password=uuid.uuid4().hex
    )
    site = services.site_add(
        account=user.account,
        address=f"https://{namespace}.example",
        language="ru",
        user=user,
    )
    from cabinet.models import User
    from chat.models import Operator

    cookies = []
    for i in range(operators):
        member = user
        if i:
            member = User.objects.create_user(
                email=f"{namespace}-{i}@example.com",
                password=uuid.uuid4().hex,
                account=user.account,
                role="operator",
            )
            Operator.objects.create(account=user.account, user=member, name=f"Op {i}")
        session = SessionStore()
        session["_auth_user_id"] = str(member.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = member.get_session_auth_hash()
        session.create()
        cookies.append(session.session_key)
    return user, site, cookies


def _start(port: int, namespace: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "CACHE_PREFIX": namespace,
        "DEVELOPMENT": "1",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    cmd = [
        sys.executable, "-m", "uvicorn", "cabinet.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off",
        "--ws-max-size", "65536", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=str(Path(settings.BASE_DIR)), env=env)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))] * 1000, 1)


async def _connect_visitors(url, site, n):
    from websockets.asyncio.client import connect

    visitors = []
    for _ in range(n):
        ws = await connect(
            f"{url}/ws/chat/visitor/?site={site.key}&visitor={uuid.uuid4().hex}",
            additional_headers={"Origin": site.origin},
            max_size=65536,
        )
        await ws.recv()  # ready
        visitors.append(ws)
    return visitors


async def _run_async(url, site, cookies, n, rounds, spread, pid):
    from websockets.asyncio.client import connect

    base_rss = _rss_kib(pid)
    sent_at: dict[str, float] = {}
    to_operator: list[float] = []
    to_visitor: list[float] = []
    errors = {"n": 0}
    visitors = await _connect_visitors(url, site, n)
    await asyncio.sleep(1)
    connected_rss = _rss_kib(pid)
    operators = []
    for cookie in cookies:
        ws = await connect(
            f"{url}/ws/chat/operator/",
            additional_headers={"Origin": url.replace("ws://", "http://"),
                                "Cookie": f"sessionid={cookie}"},
        )  # fmt: skip
        await ws.recv()  # ready
        operators.append(ws)
    done = asyncio.Event()
    expected = n * rounds

    async def operator_loop(index, operator):
        """Every operator sees every event; each answers its share of the
        conversations (as the console's «transfer» would split them)."""
        seen = 0
        async for raw in operator:
            e = json.loads(raw)
            if e["type"] == "message" and e["message"]["author"] == "visitor":
                cid = e["message"]["client_id"]
                if index == 0 and cid in sent_at:
                    to_operator.append(time.perf_counter() - sent_at[cid])
                if e["message"]["conversation"] % len(operators) != index:
                    continue
                answer = uuid.uuid4().hex
                sent_at[answer] = time.perf_counter()
                await operator.send(json.dumps({
                    "type": "message", "conversation": e["message"]["conversation"],
                    "text": "Ответ " + e["message"]["text"], "client_id": answer,
                }))  # fmt: skip
            elif e["type"] == "error":
                errors["n"] += 1
            seen += 1

    async def visitor_loop(ws):
        async for raw in ws:
            e = json.loads(raw)
            if e["type"] == "message" and e["message"]["author"] == "operator":
                cid = e["message"]["client_id"]
                if cid in sent_at:
                    to_visitor.append(time.perf_counter() - sent_at.pop(cid))
                if len(to_visitor) >= expected:
                    done.set()
            elif e["type"] == "error":
                errors["n"] += 1

    tasks = [
        asyncio.create_task(operator_loop(i, ws)) for i, ws in enumerate(operators)
    ]
    tasks += [asyncio.create_task(visitor_loop(ws)) for ws in visitors]
    started = time.perf_counter()
    for r in range(rounds):
        for i, ws in enumerate(visitors):
            cid = uuid.uuid4().hex
            sent_at[cid] = time.perf_counter()
            await ws.send(json.dumps(
                {"type": "message", "text": f"Вопрос {r}-{i}", "client_id": cid}
            ))  # fmt: skip
            await asyncio.sleep(spread / n)
    try:
        await asyncio.wait_for(done.wait(), timeout=120)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - started
    for t in tasks:
        t.cancel()
    for ws in visitors + operators:
        try:
            await ws.close()
        except Exception:  # noqa: BLE001 - a socket the server already closed
            pass
    return {
        "connections": n,
        "operators": len(operators),
        "messages": n * rounds * 2,
        "seconds": round(elapsed, 1),
        "visitor_to_operator_ms": {
            "p50": _pct(to_operator, 0.5), "p99": _pct(to_operator, 0.99),
            "n": len(to_operator),
        },
        "operator_to_visitor_ms": {
            "p50": _pct(to_visitor, 0.5), "p99": _pct(to_visitor, 0.99),
            "n": len(to_visitor),
        },
        "server_rss_mib": {"before": round(base_rss / 1024, 1),
                           "connected": round(connected_rss / 1024, 1),
                           "after": round(_rss_kib(pid) / 1024, 1)},
        "kib_per_connection": round((connected_rss - base_rss) / n, 1),
        "errors": errors["n"],
    }  # fmt: skip


def run(connections=500, rounds=2, spread=10.0, operators=5, **_):
    namespace = f"bench-chat-{uuid.uuid4().hex[:10]}"
    user, site, cookies = _setup(namespace, operators)
    port = _free_port()
    proc = _start(port, namespace)
    url = f"ws://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        result = asyncio.run(
            _run_async(url, site, cookies, connections, rounds, spread, proc.pid)
        )
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        redis_url = os.environ.get("REDIS_URL")
        if redis_url:
            from bench.api import _cleanup_redis

            _cleanup_redis(redis_url, namespace)
    result["channel_layer"] = "redis" if os.environ.get("REDIS_URL") else "memory"
    return result
