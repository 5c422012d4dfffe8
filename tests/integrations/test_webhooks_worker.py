"""Webhooks end to end with a real Celery worker on Redis: the worker dispatches
the message, applies the receipt, writes the outbox from the status signal and
POSTs the signed batch to a receiver on 127.0.0.1.  Needs PostgreSQL and Redis
(DATABASE_URL, REDIS_URL)."""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
from decimal import Decimal

import pytest

from cabinet.models import Account
from integrations import services
from tests.conftest import start_celery_worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (
            os.environ.get("DATABASE_URL", "").startswith("postgres")
            and os.environ.get("REDIS_URL")
        ),
        reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
    ),
]


@pytest.fixture
def worker(real_broker):
    proc = start_celery_worker(
        real_broker,
        FAKE_GATEWAY_MODE="instant",
        WEBHOOK_ALLOW_PRIVATE=1,
        WEBHOOK_TIMEOUT=2,
    )
    yield real_broker
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_a_worker_delivers_signed_status_webhooks(user, worker, hook_server):
    from billing.services import account_credit
    from messaging import services as messaging
    from messaging.services import Recipient

    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account_credit(account_id=user.account_id, amount=Decimal("100"), reason="test")
    account = Account.objects.get(pk=user.account_id)
    endpoint = services.webhook_save(account=account, url=hook_server.url)
    messaging.campaign_launch(
        account=account,
        channel="sms",
        text="Код 1234",
        source="api",
        recipients=[Recipient(phone="+79161234567", client_ref="worker-1")],
    )

    def statuses():
        return [
            e["data"]["status"]
            for r in hook_server.requests
            for e in json.loads(r["body"])["events"]
        ]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "delivered" not in statuses():
        time.sleep(0.3)
    assert "delivered" in statuses(), statuses()
    for request in hook_server.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        expected = hmac.new(
            endpoint.secret.encode(),
            headers["x-timestamp"].encode() + b"." + request["body"],
            hashlib.sha256,
        ).hexdigest()
        assert hmac.compare_digest(expected, headers["x-signature"])
