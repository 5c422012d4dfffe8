"""Webhooks (SPEC A4): outbox written by the status signal, signed batches,
retries with backoff, the delivery log, and sending never waiting for them."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.tasks import webhooks_deliver_due
from messaging.models import Message
from messaging.signals import statuses_changed

pytestmark = pytest.mark.django_db


def send_sms(user, phone="79161234567", text="Код 1234", client_ref=""):
    from messaging import services as messaging
    from messaging.services import Recipient

    return messaging.campaign_launch(
        account=user.account,
        channel="sms",
        text=text,
        sender="",
        recipients=[Recipient(phone=f"+{phone}", client_ref=client_ref)],
        source="api",
    )


def verify(secret, request):
    headers = {k.lower(): v for k, v in request["headers"].items()}
    expected = hmac.new(
        secret.encode(),
        headers["x-timestamp"].encode() + b"." + request["body"],
        hashlib.sha256,
    ).hexdigest()
    return hmac.compare_digest(expected, headers["x-signature"])


def deliver_now():
    from django.core.cache import cache

    cache.delete("webhooks:kick")
    webhooks_deliver_due()


def test_status_changes_are_posted_signed_in_batches(user, hook_server):
    endpoint = services.webhook_save(account=user.account, url=hook_server.url)
    send_sms(user, client_ref="order-1")
    deliver_now()
    assert hook_server.requests, "nothing was delivered"
    events = []
    for request in hook_server.requests:
        assert verify(endpoint.secret, request)
        assert abs(int(request["headers"]["X-Timestamp"]) - time.time()) < 60
        events += json.loads(request["body"])["events"]
    message = Message.objects.get()
    statuses = [e["data"]["status"] for e in events if e["type"] == "message.status"]
    assert statuses[-1] == "delivered"
    last = events[-1]["data"]
    assert last["message_id"] == message.pk
    assert last["client_id"] == "order-1"
    assert last["status_word"] == "delivered"
    assert last["phone"] == "+79161234567"
    assert not WebhookEvent.objects.filter(state="pending").exists()
    log = WebhookDelivery.objects.filter(account=user.account)
    assert log.exists() and all(d.success and d.status_code == 200 for d in log)


def test_the_receiver_writes_the_outbox_in_one_query(
    user, other_user, django_assert_num_queries
):
    """One small query finds the campaigns with a webhook, one INSERT … SELECT
    writes their rows; a batch of accounts without webhooks costs the small
    query alone."""
    services.webhook_save(account=user.account, url="https://example.com/hook")
    mine = send_sms(user)
    theirs = send_sms(other_user)  # no webhook: no rows
    WebhookEvent.objects.all().delete()
    m1 = Message.objects.get(campaign=mine)
    m2 = Message.objects.get(campaign=theirs)
    changes = [
        (m1.pk, mine.pk, "sent", "delivered"),
        (m2.pk, theirs.pk, "sent", "delivered"),
    ]
    from django.core.cache import cache

    cache.add("webhooks:kick", 1, timeout=60)  # a kick was just sent
    with django_assert_num_queries(2):
        statuses_changed.send(sender=Message, channel="sms", changes=changes)
    rows = list(
        WebhookEvent.objects.values_list("account_id", "message_id", "new_status")
    )
    assert rows == [(user.account_id, m1.pk, "delivered")]
    with django_assert_num_queries(1):
        statuses_changed.send(sender=Message, channel="sms", changes=changes[1:])
    assert WebhookEvent.objects.count() == 1


def test_inactive_or_status_less_webhooks_get_nothing(user):
    endpoint = services.webhook_save(
        account=user.account, url="https://example.com/hook", is_active=False
    )
    send_sms(user)
    assert not WebhookEvent.objects.exists()
    endpoint.is_active, endpoint.send_statuses = True, False
    endpoint.save()
    send_sms(user, phone="79031234567")
    assert not WebhookEvent.objects.exists()


def test_failures_are_retried_with_backoff_then_given_up(user, hook_server, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    hook_server.status = 500
    services.webhook_save(account=user.account, url=hook_server.url)
    send_sms(user)
    deliver_now()
    first = WebhookDelivery.objects.order_by("id").first()
    assert not first.success and first.status_code == 500 and first.attempt == 1
    pending = WebhookEvent.objects.filter(state="pending")
    assert pending.exists()
    for event in pending:
        retry_in = (event.next_attempt_at - timezone.now()).total_seconds()
        assert 20 < retry_in <= 30
    # One failed POST per batch so far (the send's status changes may arrive in
    # more than one batch).
    assert WebhookEndpoint.objects.get().failures == WebhookDelivery.objects.count()
    # Not due yet: nothing is posted.
    posted = len(hook_server.requests)
    deliver_now()
    assert len(hook_server.requests) == posted
    # Second attempt (1 minute later), third gives up.
    for expected_attempt in (2, 3):
        WebhookEvent.objects.filter(state="pending").update(
            next_attempt_at=timezone.now()
        )
        deliver_now()
        assert (
            WebhookDelivery.objects.order_by("-id").first().attempt == expected_attempt
        )
        if expected_attempt == 2:
            retry = WebhookEvent.objects.filter(state="pending").first().next_attempt_at
            assert 50 < (retry - timezone.now()).total_seconds() <= 60
    assert not WebhookEvent.objects.filter(state="pending").exists()
    assert WebhookEvent.objects.filter(state="failed").exists()
    assert WebhookDelivery.objects.order_by("-id").first().next_attempt_at is None
    # The endpoint recovers: new events go through and reset the failure count.
    hook_server.status = 200
    send_sms(user, phone="79031234567")
    deliver_now()
    assert WebhookDelivery.objects.order_by("-id").first().success
    assert WebhookEndpoint.objects.get().failures == 0


def test_backoff_grows_exponentially_and_is_capped():
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [
        30,
        60,
        120,
        240,
    ]
    assert services.backoff(30) == timedelta(hours=6)


def test_a_slow_endpoint_times_out_and_is_retried(user, hook_server, settings):
    settings.WEBHOOK_TIMEOUT = 0.3
    hook_server.delay = 1.0
    services.webhook_save(account=user.account, url=hook_server.url)
    send_sms(user)
    started = time.monotonic()
    deliver_now()
    assert time.monotonic() - started < 1.5
    delivery = WebhookDelivery.objects.order_by("id").first()
    assert not delivery.success and "таймаут" in delivery.error
    assert WebhookEvent.objects.filter(state="pending").exists()


def test_sending_never_waits_for_the_webhook(user, settings):
    """A dead endpoint: the receiver only writes the outbox; delivery is a task.
    With the kick suppressed (as when a worker is busy) the send completes and
    events wait in the outbox."""
    from django.core.cache import cache

    services.webhook_save(account=user.account, url="http://127.0.0.1:9/dead")
    cache.add("webhooks:kick", 1, timeout=60)
    started = time.monotonic()
    send_sms(user)
    assert time.monotonic() - started < 2
    assert WebhookEvent.objects.filter(state="pending").exists()
    assert not WebhookDelivery.objects.exists()
    cache.delete("webhooks:kick")
    webhooks_deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert not delivery.success and delivery.status_code is None and delivery.error


def test_incoming_and_test_events(user, hook_server):
    endpoint = services.webhook_save(
        account=user.account, url=hook_server.url, send_incoming=True
    )
    services.webhook_event_add(
        account_id=user.account_id,
        kind="message.incoming",
        data={"from": "+79161234567", "text": "Да"},
    )
    services.webhook_test(account=user.account)
    deliver_now()
    events = [e for r in hook_server.requests for e in json.loads(r["body"])["events"]]
    assert [e["type"] for e in events] == ["message.incoming", "test"]
    assert events[0]["data"] == {"from": "+79161234567", "text": "Да"}
    assert all(verify(endpoint.secret, r) for r in hook_server.requests)
    endpoint.send_incoming = False
    endpoint.save()
    assert (
        services.webhook_event_add(
            account_id=user.account_id, kind="message.incoming", data={}
        )
        is None
    )


def test_private_addresses_are_refused_unless_allowed(user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "ftp://example.com/x",
        "http://user:pw@example.com/x",
    ):
        with pytest.raises(services.IntegrationError):
            services.webhook_save(account=user.account, url=url)
    assert not WebhookEndpoint.objects.exists()
    result = services.http_post("http://127.0.0.1:9/x", b"{}", {}, 1)
    assert not result.ok and "внутренней" in result.error


def test_secret_rotation_changes_the_signature(user):
    endpoint = services.webhook_save(account=user.account, url="https://example.com/h")
    old = endpoint.secret
    assert services.webhook_secret_rotate(account=user.account).secret != old


def test_old_history_is_purged_but_pending_events_are_kept(user):
    from integrations.tasks import webhooks_purge

    endpoint = services.webhook_save(account=user.account, url="https://example.com/h")
    old = timezone.now() - timedelta(days=40)
    delivery = WebhookDelivery.objects.create(
        account=user.account, endpoint=endpoint, url=endpoint.url, created_at=old
    )
    WebhookEvent.objects.create(
        account=user.account,
        endpoint=endpoint,
        created_at=old,
        state="delivered",
        delivery=delivery,
    )
    pending = WebhookEvent.objects.create(
        account=user.account, endpoint=endpoint, created_at=old
    )
    recent = WebhookEvent.objects.create(
        account=user.account, endpoint=endpoint, state="delivered"
    )
    assert webhooks_purge() == 2
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {
        pending.pk,
        recent.pk,
    }
    assert not WebhookDelivery.objects.exists()
