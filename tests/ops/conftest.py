"""Engine and operations tests: real processes (Redis, Celery workers, the
``make run`` script) started by the test itself."""

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest

from cabinet.celery import app as celery_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port: it can be restarted
    (never the shared one on 6379) and nothing else uses it."""

    def __init__(self, binary: str, directory):
        self.binary = binary
        self.port = free_port()
        self.directory = str(directory)
        self.proc = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def restart(self, down_seconds: float = 0) -> None:
        """What a broker restart without persistence looks like to clients:
        every connection drops, and the data is gone."""
        self.stop()
        time.sleep(down_seconds)
        self.start()


@pytest.fixture
def private_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary, tmp_path)
    server.start()
    yield server
    server.stop()


def child_database_url() -> str:
    """The URL of this test's database for a child process (PostgreSQL)."""
    from django.db import connection

    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (DATABASE_URL)",
)


@contextmanager
def broker(url: str, queue: str):
    """Tasks the test enqueues go to ``queue`` on the Redis at ``url`` instead
    of running eagerly."""
    conf = celery_app.conf
    # Set under both names: with the Django settings namespace Celery 5.6 read
    # CELERY_BROKER_URL and ignored broker_url changed at run time.
    saved = conf["CELERY_BROKER_URL"]
    conf.task_always_eager = False
    conf.task_default_queue = queue
    conf["CELERY_BROKER_URL"] = conf.broker_url = url
    _reset_producer_pool()
    try:
        yield queue
    finally:
        conf.task_always_eager = True
        conf.task_default_queue = "celery"
        conf["CELERY_BROKER_URL"] = conf.broker_url = saved
        _reset_producer_pool()


def _reset_producer_pool():
    """The app's connection and producer pools keep connections to the broker
    they were made for: close them and start afresh, as Celery does in a
    forked child, so the next publish connects to the broker configured now.
    The pools live in kombu's process-wide registry (``kombu.pools``), keyed by
    the broker: closing only the app's left that closed pool registered, and
    a later test publishing to the same broker got «Acquire on closed pool» —
    ``kombu.pools.reset`` closes and forgets them all."""
    from kombu import pools

    pools.reset()
    celery_app._after_fork()


def wait_for(predicate, timeout, step=0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


TEST_ENDINGS = {"0000", "0001", "1111", "2222", "3333", "4444"}


def make_group(account, name: str, n: int, first: int):
    """A group of ``n`` ordinary numbers (the fake carrier's test endings, which
    fail or retry on purpose, left out)."""
    from contacts.models import Contact, Group

    group = Group.objects.create(account=account, name=name)
    phones = (f"+7905{first + i:07d}" for i in range(n * 2))
    ordinary = [p for p in phones if p[-4:] not in TEST_ENDINGS][:n]
    Contact.objects.bulk_create(
        [
            Contact(
                account=account,
                group=group,
                phone=phone,
                country="RU",
                operator="МТС",
                timezone="Europe/Moscow",
            )
            for phone in ordinary
        ],
        batch_size=5000,
    )
    return group


def funded_account(user):
    from billing.services import account_credit
    from cabinet.models import Account

    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account_credit(
        account_id=user.account_id, amount=Decimal("100000"), reason="test"
    )
    return Account.objects.get(pk=user.account_id)
