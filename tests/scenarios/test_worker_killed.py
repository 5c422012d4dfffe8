"""A real Celery worker is killed (SIGKILL) in the middle of a Viber → SMS
run and another one started: no step reaches a recipient twice and none is
skipped — every recipient Viber did not reach got the SMS, once.  Needs
PostgreSQL and Redis (DATABASE_URL, REDIS_URL)."""

import os
import signal
import time
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from cabinet.models import Account
from contacts.models import Contact, Group
from messaging.models import GatewaySubmission, Message
from scenarios.models import Hop, Run
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

N = 4000
STEPS = [
    {"channel": "viber", "text": "Скидка 20%", "decision": 60},
    {"channel": "sms", "text": "Скидка 20%", "decision": 60},
]


def _worker(queue):
    return start_celery_worker(
        queue,
        FAKE_GATEWAY_MODE="instant",
        FAKE_GATEWAY_RATE=800,
        FAKE_VIBER_NOT_USER="0.3",
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


def test_a_killed_worker_neither_repeats_nor_skips_a_step(user, real_broker):
    from billing.services import account_credit
    from messaging.tasks import dispatch_all
    from scenarios.services import run_launch, scenario_save
    from scenarios.tasks import sweep

    account = Account.objects.get(pk=user.account_id)
    account_credit(account_id=account.pk, amount=Decimal("100000"), reason="test")
    account.refresh_from_db()
    group = Group.objects.create(account=account, name="4k")
    Contact.objects.bulk_create(
        [
            Contact(account=account, group=group, phone=f"+7903{i:07d}", country="RU")
            for i in range(1, N + 1)
            # no fixed patterns of the fake carriers (…0000, …1111 …)
            if f"{i:04d}"[-4:] not in {"0000", "0001", "1111", "2222"}
        ]
    )
    phones = Contact.objects.filter(group=group).count()
    scenario = scenario_save(account=account, name="Viber → SMS", steps=STEPS)

    first = _worker(real_broker)
    workers = [first]
    try:
        run = run_launch(account=account, scenario=scenario, group_ids=[group.pk])
        assert _wait(
            lambda: GatewaySubmission.objects.filter(channel="sms").count() > 20, 180
        ), "the SMS step did not start"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        assert Hop.objects.filter(run=run, state__in=["pending", "waiting"]).exists(), (
            "the run finished before the kill"
        )
        time.sleep(2.5)  # the dead worker's claims become stale
        second = _worker(real_broker)
        workers.append(second)

        def settled():
            # What beat does every few seconds; receipts the killed worker held
            # are lost (a carrier's can be too): their decision time passes.
            Hop.objects.filter(
                run=run, state="waiting", decide_at__gt=timezone.now()
            ).exclude(
                message_id__in=Message.objects.filter(
                    status__in=["queued", "sending"]
                ).values("id")
            ).update(decide_at=timezone.now())
            sweep.delay()
            dispatch_all.delay()
            return not Hop.objects.filter(
                run=run, state__in=["pending", "waiting"]
            ).exists()

        assert _wait(settled, 240, step=2)
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait(10)

    # No step twice: one message per recipient and channel, each submitted once.
    per_phone = (
        Message.objects.filter(account=account)
        .values("phone", "channel")
        .annotate(n=Count("id"))
    )
    assert not per_phone.filter(n__gt=1).exists()
    submitted = (
        GatewaySubmission.objects.filter(duplicate=False)
        .values("channel", "phone")
        .annotate(n=Count("id"))
    )
    assert not submitted.filter(n__gt=1).exists()
    # None skipped: everyone got Viber; everyone Viber did not reach got SMS.
    hops = Hop.objects.filter(run=run)
    assert hops.filter(step=0).count() == phones
    assert hops.filter(step=0, message_id__isnull=False).count() == phones
    moved = set(hops.filter(step=0, state="moved").values_list("phone", flat=True))
    assert moved, "Viber reached everyone: nothing to fall back"
    assert (
        set(
            hops.filter(step=1, message_id__isnull=False).values_list(
                "phone", flat=True
            )
        )
        == moved
    )
    assert set(
        hops.filter(step=0).exclude(state="moved").values_list("state", flat=True)
    ) <= {"success"}
    sms_phones = set(
        Message.objects.filter(account=account, channel="sms").values_list(
            "phone", flat=True
        )
    )
    assert sms_phones == moved
    run.refresh_from_db()
    assert run.status == Run.Status.DONE
