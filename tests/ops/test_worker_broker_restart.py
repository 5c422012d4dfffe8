"""A busy Celery worker survives a broker restart.

Celery 5.7.0 closes the broken connection after a connection loss; with
unacknowledged messages on the channel kombu's Redis transport then tries to
restore them through a connection whose client is already gone and the worker
dies for good: «Unrecoverable error: AttributeError("'NoneType' object has no
attribute 'hostname'")» (celery/worker/consumer/consumer.py,
on_connection_error_after_connected → kombu/transport/redis.py _connparams).
Idle workers survived; busy ones died in most runs.  pyproject.toml keeps
Celery below 5.7.  Here a real prefork worker (as ``make run`` starts it) is in
the middle of a campaign when the test restarts its own Redis (without
persistence, like a container restart): the worker must stay up, finish the
campaign and take new work."""

import os
import signal
import time
import uuid

import pytest

from messaging import services
from messaging.models import Campaign, GatewaySubmission, Message
from tests.conftest import start_celery_worker
from tests.ops.conftest import (
    broker,
    funded_account,
    make_group,
    needs_postgres,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    needs_postgres,
]
N = 3000


@pytest.fixture
def queue(private_redis):
    with broker(private_redis.url(0), f"it-{uuid.uuid4().hex[:8]}") as name:
        yield name


def _finished(campaign):
    return (
        not Message.objects.filter(
            campaign=campaign, status__in=["queued", "sending", "deferred"]
        ).exists()
        and Campaign.objects.get(pk=campaign.pk).status == "done"
    )


def _report(campaign, log_path):
    from django.db.models import Count

    statuses = dict(
        Message.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    status = Campaign.objects.get(pk=campaign.pk).status
    log = log_path.read_text(errors="replace")[-4000:]
    return f"campaign {status}, messages {statuses}; worker log:\n{log}"


def test_a_busy_worker_survives_a_broker_restart(
    user, queue, private_redis, tmp_path
):
    account = funded_account(user)
    big = make_group(account, "big", N, 0)
    small = make_group(account, "small", 20, 2 * N)

    log_path = tmp_path / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    worker = start_celery_worker(
        queue,
        pool="prefork",
        concurrency=2,
        output=log,
        REDIS_URL=private_redis.url(0),
        FAKE_GATEWAY_MODE="instant",
        FAKE_GATEWAY_RATE=300,  # ten seconds of sending: busy at the restart
        MESSAGING_DISPATCH_BATCH=100,
        MESSAGING_STALE_CLAIM_SECONDS=2,
    )
    try:
        campaign = services.campaign_launch(
            account=account, channel="sms", text="Проверка", group_ids=[big.pk]
        )
        assert wait_for(lambda: GatewaySubmission.objects.count() > 300, 90), (
            "the worker did not start sending: " + _report(campaign, log_path)
        )
        assert GatewaySubmission.objects.count() < N, "finished before the restart"
        private_redis.restart(down_seconds=1)
        time.sleep(3)  # the worker notices and reconnects (5.7.0: or dies)

        from messaging.tasks import dispatch_channel

        # What beat does every few seconds: the restarted Redis lost the queue.
        dispatch_channel.delay("sms")
        assert wait_for(lambda: _finished(campaign), 120), _report(campaign, log_path)
        later = services.campaign_launch(
            account=account, channel="sms", text="После", group_ids=[small.pk]
        )
        assert wait_for(lambda: _finished(later), 60), _report(later, log_path)
        assert worker.poll() is None, _report(later, log_path)
        assert "Unrecoverable error" not in log_path.read_text(errors="replace")
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        log.close()
    assert Message.objects.filter(campaign=campaign).count() == N
