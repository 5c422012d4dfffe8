"""Messages whose carrier report never comes (a worker killed with receipts in
flight, a broker restarted without persistence) do not stay «Отпр» forever:
past their lifetime they become final and are refunded once (issue 14)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from billing.selectors import ledger_sum
from cabinet.models import Account
from messaging import registry, services, tasks
from messaging.gateways.base import Receipt
from messaging.models import Message, MessageStatus
from messaging.statuses import campaign_counters, receipts_apply, sweep_unconfirmed

pytestmark = pytest.mark.django_db
S = MessageStatus


@pytest.fixture
def no_receipts(settings):
    """A carrier that accepts and never reports (manual mode, nobody drains)."""
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "sms": {
            "BACKEND": "messaging.gateways.fake.FakeSmsGateway",
            "OPTIONS": {"mode": "manual"},
        },
    }
    registry.reset_gateways()
    yield
    registry.reset_gateways()


def test_messages_past_their_lifetime_without_a_report_are_final_and_refunded(
    user, no_receipts
):
    with_ttl = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="С временем жизни",
        phones=["+79161234567", "+79161234568"],
        options={"ttl": 3600},
    )
    without = services.campaign_launch(
        account=user.account, channel="sms", text="Без", phones=["+79161234569"]
    )
    assert set(Message.objects.values_list("status", flat=True)) == {S.SENT}
    now = timezone.now()
    # Within the lifetime nothing moves.
    assert sweep_unconfirmed(channel="sms", now=now) == 0
    # An hour later the first campaign's messages are past their lifetime; the
    # second (no lifetime of its own) waits for the channel's 48 hours.
    assert (
        sweep_unconfirmed(channel="sms", now=now + timedelta(hours=1, seconds=5)) == 2
    )
    assert set(with_ttl.messages.values_list("status", flat=True)) == {S.EXPIRED}
    assert without.messages.get().status == S.SENT
    assert sweep_unconfirmed(channel="sms", now=now + timedelta(hours=49)) == 1
    message = without.messages.get()
    assert message.status == S.EXPIRED and message.refunded
    assert message.reason.startswith("Нет отчёта о доставке")
    # Counters follow; everything came back once.
    counters = campaign_counters(campaign_id=with_ttl.pk)
    assert counters[S.SENT] == 0 and counters[S.EXPIRED] == 2
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") == ledger_sum(account_id=account.pk)
    refunds = LedgerEntry.objects.filter(account_id=account.pk, kind="refund")
    assert refunds.count() == 2
    assert all("истекшим временем жизни" in e.reason for e in refunds)
    # A late report changes nothing; a second sweep neither.
    receipts_apply(
        channel="sms", receipts=[Receipt(S.DELIVERED, message_id=message.pk)]
    )
    assert sweep_unconfirmed(channel="sms", now=now + timedelta(days=5)) == 0
    message.refresh_from_db()
    assert message.status == S.EXPIRED
    assert Account.objects.get(pk=account.pk).balance == Decimal("1000")


def test_the_periodic_task_sweeps_every_channel(user, no_receipts):
    services.campaign_launch(
        account=user.account, channel="sms", text="x", phones=["+79161234567"]
    )
    Message.objects.update(sent_at=timezone.now() - timedelta(days=3))
    assert tasks.sweep_unconfirmed() == 1


def test_a_send_error_is_not_called_a_cancellation_in_the_ledger(user):
    """«…1111» is refused by the carrier for good: its refund says so."""
    services.campaign_launch(
        account=user.account, channel="sms", text="x", phones=["+79160001111"]
    )
    refund = LedgerEntry.objects.get(account_id=user.account_id, kind="refund")
    assert "ошибка отправки" in refund.reason
    assert "отменённые" not in refund.reason
