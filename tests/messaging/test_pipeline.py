from decimal import Decimal

import pytest
from django.urls import reverse

from billing.selectors import ledger_sum
from cabinet.models import Account
from contacts.models import StopNumber
from messaging import registry, services
from messaging.gateways.base import Receipt
from messaging.models import Campaign, GatewaySubmission, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def manual_gateway(settings):
    settings.MESSAGING_GATEWAYS = {
        "sms": {
            "BACKEND": "messaging.gateways.fake.FakeSmsGateway",
            "OPTIONS": {"mode": "manual"},
        },
    }
    registry.reset_gateways()
    return registry.get_gateway("sms")


def test_send_one_sms_prices_charges_dispatches_and_delivers(user):
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Привет!",
        phones=["8 (916) 123-45-67"],
    )
    message = Message.objects.get(campaign=campaign)
    assert message.phone == "+79161234567"
    assert message.status == "delivered"
    assert message.price > 0
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") - message.price
    assert ledger_sum(account_id=account.pk) == account.balance
    assert GatewaySubmission.objects.filter(message_id=message.pk).count() == 1
    counters = services.campaign_counters(campaign_id=campaign.pk)
    assert counters["delivered"] == 1 and counters["queued"] == 0
    assert Campaign.objects.get(pk=campaign.pk).status == "done"


def test_a_two_part_message_costs_two_parts(user):
    single = services.campaign_launch(
        account=user.account, channel="sms", text="a", phones=["+79161234567"]
    )
    double = services.campaign_launch(
        account=user.account, channel="sms", text="я" * 71, phones=["+79161234567"]
    )
    assert double.messages.get().parts == 2
    assert double.cost == single.cost * 2


def test_receipts_never_move_a_final_status_backwards(user, manual_gateway):
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="hi", phones=["+79161234567"]
    )
    message = campaign.messages.get()
    assert message.status == "sent"
    services.receipts_apply(
        channel="sms", receipts=[Receipt("clicked", message_id=message.pk)]
    )
    services.receipts_apply(
        channel="sms",
        receipts=[
            Receipt("delivered", message_id=message.pk),
            Receipt("sent", message_id=message.pk),
            Receipt("undelivered", message_id=message.pk, reason="late"),
        ],
    )
    message.refresh_from_db()
    assert message.status == "clicked"
    counters = services.campaign_counters(campaign_id=campaign.pk)
    assert (
        counters["clicked"] == 1
        and counters["sent"] == 0
        and counters["delivered"] == 0
    )


def test_duplicate_receipts_count_once(user, manual_gateway):
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="hi", phones=["+79161234567"]
    )
    message = campaign.messages.get()
    receipt = Receipt("delivered", gateway_id=message.gateway_id)
    assert services.receipts_apply(channel="sms", receipts=[receipt, receipt]) == 1
    assert services.receipts_apply(channel="sms", receipts=[receipt]) == 0
    assert services.campaign_counters(campaign_id=campaign.pk)["delivered"] == 1


def test_permanent_gateway_failure_refunds_once(user):
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="hi", phones=["+79161231111"]
    )
    message = campaign.messages.get()
    assert message.status == "failed"
    assert message.refunded
    assert services.messages_refund(campaign_id=campaign.pk) == 0
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000")
    assert ledger_sum(account_id=account.pk) == account.balance


def test_undelivered_receipt_keeps_the_reason(user):
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="hi", phones=["+79161230000"]
    )
    message = campaign.messages.get()
    assert message.status == "undelivered"
    assert message.reason == "Абонент не найден"


def test_stop_listed_number_is_never_sent(user):
    StopNumber.objects.create(account=user.account, phone="+79161234567")
    with pytest.raises(services.LaunchError):
        services.campaign_launch(
            account=user.account, channel="sms", text="hi", phones=["+79161234567"]
        )
    assert not Message.objects.exists()
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1000")


def test_insufficient_funds_changes_nothing(make_user):
    poor = make_user(balance=Decimal("1"))
    with pytest.raises(services.LaunchError) as exc:
        services.campaign_launch(
            account=poor.account, channel="sms", text="hi", phones=["+79161234567"]
        )
    assert exc.value.code == "insufficient_funds"
    assert not Campaign.objects.exists()
    assert Account.objects.get(pk=poor.account_id).balance == Decimal("1")


def test_cancel_refunds_what_was_not_sent(user, manual_gateway, settings):
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(hours=2)
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="hi",
        phones=["+79161234567", "+79031112233"],
        send_at=later,
    )
    assert set(campaign.messages.values_list("status", flat=True)) == {"deferred"}
    assert services.campaign_cancel(campaign=campaign) == 2
    assert services.campaign_cancel(campaign=campaign) == 0
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000")
    assert ledger_sum(account_id=account.pk) == account.balance
    assert not GatewaySubmission.objects.exists()


def test_a_claimed_message_is_submitted_once_even_when_dispatch_runs_again(
    user, manual_gateway
):
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="hi", phones=["+79161234567"]
    )
    services.dispatch_channel(channel="sms")
    services.dispatch_channel(channel="sms")
    message = campaign.messages.get()
    assert GatewaySubmission.objects.filter(message_id=message.pk).count() == 1


def test_a_lost_claim_is_resubmitted_and_the_gateway_deduplicates(user, manual_gateway):
    from datetime import timedelta

    from django.utils import timezone

    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="hi", phones=["+79161234567"]
    )
    message = campaign.messages.get()
    # The worker died after the gateway accepted the message but before it
    # recorded "sent": the message is still claimed.
    Message.objects.filter(pk=message.pk).update(
        status="sending", status_at=timezone.now() - timedelta(minutes=10)
    )
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    services.dispatch_channel(channel="sms")
    message.refresh_from_db()
    assert message.status == "sent"
    subs = GatewaySubmission.objects.filter(message_id=message.pk)
    assert subs.filter(duplicate=False).count() == 1


def test_the_send_form_sends_and_lists_the_message(client, user):
    client.force_login(user)
    resp = client.post(
        reverse("messaging:sms_send"),
        {"phone": "+7 916 1234567", "text": "Здравствуйте!"},
    )
    assert resp.status_code == 302
    page = client.get(reverse("messaging:messages")).content.decode()
    assert "+79161234567" in page
    assert "Доставлено" in page


def test_the_send_form_explains_a_bad_phone(client, user):
    client.force_login(user)
    resp = client.post(reverse("messaging:sms_send"), {"phone": "12", "text": "x"})
    assert resp.status_code == 200
    assert not Message.objects.exists()
    assert "errorlist" in resp.content.decode()


def test_readonly_user_cannot_send(client, user, make_user):
    reader = make_user(account=user.account, role="readonly")
    client.force_login(reader)
    resp = client.post(
        reverse("messaging:sms_send"), {"phone": "+79161234567", "text": "x"}
    )
    assert resp.status_code == 403
    assert not Message.objects.exists()


def test_messages_of_another_account_are_invisible(client, user, other_user):
    services.campaign_launch(
        account=other_user.account,
        channel="sms",
        text="secret",
        phones=["+79031112233"],
    )
    client.force_login(user)
    page = client.get(reverse("messaging:messages")).content.decode()
    assert "+79031112233" not in page
