import os
from decimal import Decimal

import pytest

from cabinet.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Celery runs tasks in-process in unit tests; the fake gateway applies
    receipts in the same call (instant mode) unless a test says otherwise."""
    # Each test process has its own cache (rate limits, throttles) — never a
    # file or Redis cache shared with other processes.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"tests-{os.getpid()}",
        }
    }
    from django.core.cache import cache

    cache.clear()
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "sms": {
            **settings.MESSAGING_GATEWAYS["sms"],
            "OPTIONS": {"mode": "instant", "receipt_delay_seconds": 0},
        },
        "voice": {
            **settings.MESSAGING_GATEWAYS["voice"],
            "OPTIONS": {
                **settings.MESSAGING_GATEWAYS["voice"]["OPTIONS"],
                "mode": "instant",
                "receipt_delay_seconds": 0,
            },
        },
        # Outcomes by number pattern only (no random rates) in unit tests.
        "viber": {
            **settings.MESSAGING_GATEWAYS["viber"],
            "OPTIONS": {"mode": "instant", "receipt_delay_seconds": 0},
        },
    }
    from messaging import prepare, registry

    registry.reset_gateways()
    # One-message sends nudge dispatch at most every DISPATCH_NUDGE_INTERVAL
    # and defer the rest to a timer thread, which cannot see a test's
    # uncommitted rows: two sends within 0.25 s left the second one queued.
    interval, prepare.nudge_dispatch.interval = prepare.nudge_dispatch.interval, 0
    yield
    prepare.nudge_dispatch.interval = interval
    registry.reset_gateways()


@pytest.fixture(autouse=True)
def _on_commit_at_logical_commit(monkeypatch):
    """Run ``transaction.on_commit`` callbacks when the outermost atomic block of
    the code under test exits, as in production, although pytest-django wraps
    each test in a transaction of its own that never commits."""
    from django.db import transaction

    pending: dict[int, list] = {}

    def outer_real_block(conn):
        real = [
            a for a in conn.atomic_blocks if not getattr(a, "_from_testcase", False)
        ]
        return real[0] if real else None

    def on_commit(func, using=None, robust=False):
        conn = transaction.get_connection(using)
        block = outer_real_block(conn)
        if block is None:
            func()
        else:
            pending.setdefault(id(block), []).append(func)

    original_exit = transaction.Atomic.__exit__

    def atomic_exit(self, exc_type, exc_value, traceback):
        conn = transaction.get_connection(self.using)
        is_outer = outer_real_block(conn) is self and conn.atomic_blocks[-1] is self
        result = original_exit(self, exc_type, exc_value, traceback)
        if is_outer:
            funcs = pending.pop(id(self), [])
            if exc_type is None:
                for func in funcs:
                    func()
        return result

    monkeypatch.setattr(transaction, "on_commit", on_commit)
    monkeypatch.setattr(transaction.Atomic, "__exit__", atomic_exit)


@pytest.fixture
def make_user(db):
    from cabinet.services import account_create

    counter = {"n": 0}

    def make(
        email=None,
        *,
        balance=Decimal("1000"),
        password="secret-pass-123",
        role=None,
        account=None,
        trusted=True,
    ):
        """A user of a new account.  Accounts are trusted (campaigns skip the
        new-account moderation) unless ``trusted=False``."""
        counter["n"] += 1
        email = email or f"user{counter['n']}@example.com"
        if account is not None:
            from cabinet.models import User

            return User.objects.create_user(
                email=email, password=password, account=account, role=role or "operator"
            )
        user = account_create(email=email, password=password, balance=balance)
        if trusted:
            type(user.account).objects.filter(pk=user.account_id).update(
                is_trusted=True
            )
            user.account.is_trusted = True
        if role:
            user.role = role
            user.save(update_fields=["role"])
        return user

    return make


@pytest.fixture
def user(make_user):
    return make_user("owner@example.com")


@pytest.fixture
def other_user(make_user):
    return make_user("stranger@example.com")


@pytest.fixture
def client_for(client):
    def make(user):
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for(db):
    from rest_framework.test import APIClient

    from cabinet.services import token_create

    def make(user, scopes=None):
        created = token_create(account=user.account, scopes=scopes)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {created.key}")
        api.token_key = created.key
        return api

    return make


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")):
        skip = pytest.mark.skip(reason="Debian chromium is not installed")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_celery_worker(queue: str, *, pool="solo", concurrency=1, output=None, **env):
    """A real Celery worker (solo pool unless ``pool``) for integration tests,
    consuming only ``queue`` and connected to this test's database; ``output``
    is a file for its log (default: discarded); ``env`` overrides environment
    variables.  Stop it with ``os.killpg(proc.pid, …)``."""
    import subprocess
    import sys

    from django.db import connection

    db = connection.settings_dict
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # The test's development secrets (cabinet/deploy.py refuses them otherwise).
        "DEVELOPMENT": "1",
        **{k: str(v) for k, v in env.items()},
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cabinet",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "-Q",
            queue,
            "--loglevel=WARNING" if output is None else "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=environment,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture
def real_broker(settings):
    """Tasks go to a fresh Redis queue instead of running eagerly."""
    import uuid

    queue = f"it-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    celery_app.conf.broker_url = settings.REDIS_URL
    yield queue
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_default_queue = "celery"


# --- the browser (Playwright + Debian's chromium) ------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls
    # made by the test itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
