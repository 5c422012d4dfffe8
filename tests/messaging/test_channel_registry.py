"""A channel is a registry entry: its content reaches the gateway, its retry
policy and billable unit are the core's, receipts carry units and extras, and
a status moves only from the status a row really has."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from billing.catalog import service_label
from billing.selectors import ledger_sum
from cabinet.models import Account
from messaging import registry, services
from messaging.channels import SMS
from messaging.dispatch import _claim, dispatch_batch, recover_stale_claims
from messaging.gateways.base import Receipt
from messaging.models import Campaign, GatewaySubmission, Message, MessageStatus
from messaging.statuses import campaign_counters, receipts_apply, set_statuses

pytestmark = pytest.mark.django_db
S = MessageStatus


@dataclass(frozen=True)
class CardContent(registry.Content):
    title: str = ""
    url: str = ""

    @classmethod
    def parse(cls, data, *, account_id=None):
        content = super().parse(data, account_id=account_id)
        if content.url and not content.url.startswith("https://"):
            raise registry.ContentError(
                "Ссылка должна начинаться с https://.", field="url"
            )
        return content

    def links(self):
        return [self.url] if self.url else []


def card_kind(**overrides):
    fields = dict(
        code="card",
        label="Карточки",
        columns=SMS.columns,
        success=frozenset({S.DELIVERED}),
        content=CardContent,
        gateway_key="sms",
        service_code="card",
    )
    fields.update(overrides)
    return registry.ChannelKind(**fields)


@pytest.fixture
def manual_gateway(settings):
    settings.MESSAGING_GATEWAYS = {
        "sms": {
            "BACKEND": "messaging.gateways.fake.FakeSmsGateway",
            "OPTIONS": {"mode": "manual"},
        },
    }
    registry.reset_gateways()
    yield
    registry.reset_gateways()


def test_a_code_registered_twice_is_a_start_up_error():
    with pytest.raises(ImproperlyConfigured):
        registry.register(card_kind(code="sms"))
    with registry.temporary(card_kind()):
        with pytest.raises(ImproperlyConfigured):
            registry.register(card_kind())
    # Gone after the block: it can be registered again.
    with registry.temporary(card_kind()):
        assert registry.get_channel("card").content is CardContent


def test_success_statuses_must_be_the_channels_own():
    with pytest.raises(ImproperlyConfigured):
        registry.register(card_kind(success=frozenset({"no-such-status"})))


def test_the_sms_entry_declares_what_the_core_needs(settings):
    assert SMS.success == {S.DELIVERED, S.CLICKED}
    assert SMS.unit == registry.Unit.PARTS
    assert SMS.default_sender() == settings.DEFAULT_SENDER_NAME
    assert SMS.retry.attempts >= 1
    assert service_label(SMS.service) == "Рассылка СМС"


def test_a_registered_channel_names_its_service_for_billing_documents():
    with registry.temporary(card_kind()):
        assert service_label("card") == "Карточки"
    assert service_label("card") == "card"


def test_content_is_validated_at_launch_and_reaches_the_gateway(user):
    with registry.temporary(card_kind()):
        with pytest.raises(services.LaunchError) as bad:
            services.campaign_launch(
                account=user.account,
                channel="card",
                text="Скидки",
                content={"title": "Акция", "url": "javascript:alert(1)"},
                phones=["+79161234567"],
            )
        assert bad.value.field == "url"
        assert not Campaign.objects.filter(channel="card").exists()
        with pytest.raises(services.LaunchError):
            services.campaign_launch(
                account=user.account,
                channel="card",
                text="Скидки",
                content={"colour": "red"},
                phones=["+79161234567"],
            )
        campaign = services.campaign_launch(
            account=user.account,
            channel="card",
            text="Скидки",
            content={"title": "Акция", "url": "https://example.com/a"},
            phones=["+79161234567"],
        )
        dispatch_batch(channel="card")
        record = GatewaySubmission.objects.get(channel="card")
        assert record.content == {"title": "Акция", "url": "https://example.com/a"}
        assert campaign.content == {"title": "Акция", "url": "https://example.com/a"}


def test_a_click_is_reported_only_where_there_is_a_link(user):
    """The fake carrier's «…3333» numbers click — but only a link (text or
    content); a text without one is just delivered (no Кл)."""
    plain = services.campaign_launch(
        account=user.account, channel="sms", text="Без ссылки", phones=["+79160003333"]
    )
    linked = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Смотрите https://example.com",
        phones=["+79160013333"],
    )
    dispatch_batch(channel="sms")
    assert plain.messages.get().status == S.DELIVERED
    assert linked.messages.get().status == S.CLICKED
    with registry.temporary(card_kind()):
        card = services.campaign_launch(
            account=user.account,
            channel="card",
            text="Кнопка",
            content={"url": "https://example.com/b"},
            phones=["+79160023333"],
        )
        dispatch_batch(channel="card")
        assert card.messages.get().status == S.CLICKED


def test_the_retry_policy_is_the_channels(user, manual_gateway):
    """A temporary refusal («…2222») is retried per the channel's policy, then
    fails for good and is refunded."""
    policy = registry.RetryPolicy(attempts=2, interval=timedelta(hours=2))
    with registry.temporary(card_kind(retry=policy)):
        campaign = services.campaign_launch(
            account=user.account, channel="card", text="x", phones=["+79160002222"]
        )
        message = campaign.messages.get()
        dispatch_batch(channel="card")
        message.refresh_from_db()
        assert message.status == S.QUEUED and message.attempts == 1
        assert message.send_at > message.created_at + timedelta(hours=1)
        Message.objects.filter(pk=message.pk).update(send_at=message.created_at)
        dispatch_batch(channel="card")
        message.refresh_from_db()
        assert message.status == S.FAILED and message.attempts == 2
        assert message.refunded
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") == ledger_sum(account_id=account.pk)


def test_receipts_carry_extras_without_moving_the_status(user, manual_gateway):
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="x", phones=["+79161234567"]
    )
    dispatch_batch(channel="sms")
    message = campaign.messages.get()
    receipts_apply(
        channel="sms",
        receipts=[
            Receipt(S.DELIVERED, message_id=message.pk, extra={"delivered_by": "a"}),
            Receipt(S.SENT, message_id=message.pk, extra={"reply": "Спасибо"}),
        ],
    )
    message.refresh_from_db()
    assert message.status == S.DELIVERED
    assert message.extra == {"delivered_by": "a", "reply": "Спасибо"}
    # By the carrier's id too.
    receipts_apply(
        channel="sms",
        receipts=[Receipt(S.DELIVERED, gateway_id=message.gateway_id, extra={"n": 2})],
    )
    message.refresh_from_db()
    assert message.extra["n"] == 2


def test_units_settle_a_call_priced_by_the_second_once(user, manual_gateway):
    """A channel billed by the second holds the estimate; the receipt's measured
    seconds fix the price (never above the hold) and refund the rest once."""
    kind = card_kind(
        code="calls",
        unit=registry.Unit.SECONDS,
        count_units=lambda text, content: 60,
        bill_units=lambda seconds: max(seconds, 20),
        service_code="calls",
    )
    with registry.temporary(kind):
        campaign = services.campaign_launch(
            account=user.account,
            channel="calls",
            text="x",
            phones=["+79161234567", "+79161234568"],
        )
        held = campaign.cost
        assert held == Decimal("120.00")  # 2 × 60 s × 1.00 ₽ (fallback)
        dispatch_batch(channel="calls")
        first, second = campaign.messages.order_by("id")
        receipts = [
            Receipt(S.DELIVERED, message_id=first.pk, units=5),
            Receipt(S.DELIVERED, message_id=second.pk, units=600),
        ]
        receipts_apply(channel="calls", receipts=receipts)
        receipts_apply(channel="calls", receipts=receipts)  # repeated: no effect
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.price, first.parts) == (Decimal("20.00"), 20)  # minimum 20 s
        assert second.price == Decimal("60.00")  # never above the hold
        campaign.refresh_from_db()
        assert campaign.cost == Decimal("80.00")
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("920.00") == ledger_sum(account_id=account.pk)


def test_a_status_moves_from_the_status_the_row_really_has(
    user, manual_gateway, monkeypatch
):
    """A worker that resumes after its claim was recovered and the message was
    sent by another worker must not move it or shift counters from «sending»."""
    monkeypatch.setattr("messaging.prepare.enqueue_dispatch", lambda channel: None)
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="x", phones=["+79161234567"]
    )
    stale = _claim("sms", 10)
    assert len(stale) == 1
    Message.objects.filter(pk=stale[0][0]).update(
        status_at=Message.objects.get().status_at - timedelta(hours=1)
    )
    assert recover_stale_claims("sms") == 1
    dispatch_batch(channel="sms")  # another worker sends it
    assert campaign.messages.get().status == S.SENT
    # The first worker wakes up and fails what it thinks it still holds.
    moved = set_statuses(
        [(stale[0][0], stale[0][1], S.SENDING)], S.FAILED, channel="sms", reason="x"
    )
    assert moved == []
    assert campaign.messages.get().status == S.SENT
    counters = campaign_counters(campaign_id=campaign.pk)
    assert counters[S.QUEUED] == 0 and counters[S.SENT] == 1
    assert min(counters.values()) == 0
