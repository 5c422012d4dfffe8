"""Exactly once under faults: a real Celery worker is killed (SIGKILL) in the
middle of a 20,000-message campaign and another one started; the fake gateway's
submission record must show every message submitted exactly once and the ledger
must be exact.  Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)."""

import os
import signal
import time
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from billing.selectors import ledger_sum
from cabinet.models import Account
from contacts.models import Contact, Group
from messaging import services
from messaging.models import Campaign, GatewaySubmission, Handover, Message
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

N = 20000


def _phones(n):
    i = 0
    while n:
        phone = f"+7903{i:07d}"
        i += 1
        if phone[-4:] in {"0000", "0001", "1111", "2222", "3333", "4444"}:
            continue
        n -= 1
        yield phone


def _worker(queue: str):
    return start_celery_worker(
        queue,
        FAKE_GATEWAY_MODE="instant",
        FAKE_GATEWAY_RATE=3000,
        MESSAGING_DISPATCH_BATCH=200,
        MESSAGING_STALE_CLAIM_SECONDS=2,
    )


def _wait(predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_a_killed_worker_never_causes_a_double_send(user, real_broker):
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    from billing.services import account_credit

    account_credit(account_id=account.pk, amount=Decimal("100000"), reason="bench")
    group = Group.objects.create(account=account, name="20k")
    Contact.objects.bulk_create(
        [
            Contact(
                account=account,
                group=group,
                phone=p,
                country="RU",
                operator="МТС",
                timezone="Europe/Moscow",
            )
            for p in _phones(N)
        ],
        batch_size=5000,
    )

    first = _worker(real_broker)
    workers = [first]
    try:
        campaign = services.campaign_launch(
            account=account, channel="sms", text="Проверка", group_ids=[group.pk]
        )
        assert _wait(lambda: GatewaySubmission.objects.count() > N // 4, 120), (
            "the worker did not start sending"
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = GatewaySubmission.objects.count()
        assert killed_at < N, "the campaign finished before the kill"
        time.sleep(2.5)  # the dead worker's claims become stale

        second = _worker(real_broker)
        workers.append(second)
        from messaging.tasks import dispatch_channel

        dispatch_channel.delay("sms")  # what beat does every few seconds
        assert _wait(
            lambda: (
                not Message.objects.filter(
                    campaign=campaign, status__in=["queued", "sending", "deferred"]
                ).exists()
            ),
            180,
        )
        # The worker marks the campaign done right after its last batch commits.
        assert _wait(lambda: Campaign.objects.get(pk=campaign.pk).status == "done", 30)
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait(10)

    sent_once = (
        GatewaySubmission.objects.filter(duplicate=False)
        .values("message_id")
        .annotate(n=Count("id"))
    )
    assert sent_once.count() == N
    assert not sent_once.filter(n__gt=1).exists()
    assert Message.objects.filter(campaign=campaign).count() == N
    # Receipts held in memory by the killed worker are lost with it (a carrier's
    # report can be lost too): such messages stay "sent" (Отпр), never resent.
    statuses = dict(
        Message.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    assert set(statuses) <= {"delivered", "sent"}
    assert statuses.get("delivered", 0) > N // 2
    account.refresh_from_db()
    assert ledger_sum(account_id=account.pk) == account.balance
    paid = Message.objects.filter(campaign=campaign).aggregate(s=Sum("price"))["s"]
    assert Decimal("101000") - account.balance == paid
    counters = services.campaign_counters(campaign_id=campaign.pk)
    assert {k: v for k, v in counters.items() if v} == statuses
    assert Campaign.objects.get(pk=campaign.pk).status == "done"


# --- over SMPP ------------------------------------------------------------------

SMPP_N = int(os.environ.get("SMPP_FAULT_MESSAGES", 20000))


def test_killing_smpp_workers_twice_submits_each_message_once_at_the_smsc(
    user, real_broker
):
    """The same campaign through the SMPP gateway against the test SMSC
    (tests/smsc): a worker is SIGKILLed twice with submits in its window;
    the SMSC's own log must hold exactly one accepted submit_sm per message
    (0 lost, 0 duplicated), and every message ends delivered (reports the dead
    links left unacknowledged are delivered again on the next bind)."""
    from tests import smsc as smsc_lib

    if not smsc_lib.available():
        pytest.skip("needs node and tests/smsc/node_modules")
    smsc = smsc_lib.Smsc()
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    from billing.services import account_credit

    account_credit(account_id=account.pk, amount=Decimal("100000"), reason="bench")
    phones = list(_phones(SMPP_N))

    def worker():
        return start_celery_worker(
            real_broker,
            SMS_GATEWAY="messaging.gateways.smpp.SmppGateway",
            SMPP_URL=smsc.url(window=100),
            SMPP_UNKNOWN_RESOLVE_SECONDS=5,
            MESSAGING_DISPATCH_BATCH=500,
            MESSAGING_STALE_CLAIM_SECONDS=2,
        )

    from messaging.tasks import dispatch_channel

    workers = []
    try:
        workers.append(worker())
        campaign = services.campaign_launch(
            account=account, channel="sms", text="Проверка", phones=phones
        )
        for share in (4, 2):
            target = SMPP_N // share
            assert _wait(lambda t=target: smsc.stats()["accepted"] > t, 180, 0.05), (
                "the worker did not send"
            )
            os.killpg(workers[-1].pid, signal.SIGKILL)
            workers[-1].wait(10)
            assert smsc.stats()["accepted"] < SMPP_N, "finished before the kill"
            time.sleep(2.5)  # the dead worker's claims become stale
            workers.append(worker())
            dispatch_channel.delay("sms")

        def finished():
            dispatch_channel.delay("sms")  # what beat does every few seconds
            return not Message.objects.filter(
                campaign=campaign, status__in=["queued", "sending", "deferred", "sent"]
            ).exists()

        assert _wait(finished, 300, 1.0), dict(
            Message.objects.filter(campaign=campaign)
            .values_list("status")
            .annotate(n=Count("id"))
        )
        assert _wait(lambda: Campaign.objects.get(pk=campaign.pk).status == "done", 30)
        accepted = smsc.accepted_per_destination()
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait(10)
        smsc.stop()

    assert len(accepted) == SMPP_N, "lost"
    duplicated = sorted(d for d, n in accepted.items() if n > 1)
    assert not duplicated, (len(duplicated), duplicated[:5])
    assert {p[1:] for p in phones} == set(accepted)
    statuses = dict(
        Message.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    assert statuses == {"delivered": SMPP_N}
    counters = services.campaign_counters(campaign_id=campaign.pk)
    assert {k: v for k, v in counters.items() if v} == statuses
    account.refresh_from_db()
    assert ledger_sum(account_id=account.pk) == account.balance
    # The kills left hand-overs in flight, settled by the carrier's reports.
    assert Handover.objects.filter(state="accepted").count() == SMPP_N
