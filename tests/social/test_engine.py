"""VK and OK campaigns through the core's pipeline and the fake networks:
statuses from the asynchronous callbacks, only delivered messages charged (the
hold of the rest refunded), the networks' rules (text, lifetime, daily limit
per recipient per group, no sending before a name is approved)."""

from decimal import Decimal

import pytest

from billing.models import LedgerEntry, LedgerKind
from contacts.models import Unsubscribe
from messaging import services
from messaging.models import GatewaySubmission
from messaging.models import MessageStatus as S
from social.channels import OK, VK

pytestmark = pytest.mark.django_db

VK_GROUP = "vk.com/luckyshop"
OK_GROUP = "ok.ru/group/55555555"


def launch(user, phones, *, channel="vk", sender=VK_GROUP, text="Привет!", **kw):
    return services.campaign_launch(
        account=user.account,
        channel=channel,
        text=text,
        sender=sender,
        phones=phones,
        **kw,
    )


def statuses(campaign) -> dict[str, str]:
    return dict(campaign.messages.values_list("phone", "status"))


def test_the_entries_declare_their_rules():
    for kind in (VK, OK):
        abbrs = [str(c.abbr) for c in kind.columns]
        for abbr in ("Д", "Пр", "Кл", "От", "Н", "М", "Отм", "Отпр", "Отл"):
            assert abbr in abbrs
        assert kind.charge_by_receipt and kind.settles_after
        assert kind.max_ttl_seconds == 86400
        assert kind.default_sender() == ""


def test_callbacks_give_every_status_and_only_delivered_are_charged(
    rich_user, approved, vk_tariffs
):
    approved(rich_user)
    before = rich_user.account.balance
    campaign = launch(
        rich_user,
        [
            "+79160000000",  # not a VK user
            "+79160000001",  # not active
            "+79160001111",  # refused at submission
            "+79160003333",  # seen, clicked (no link: seen)
            "+79160004444",  # seen
            "+79160006666",  # unsubscribed
            "+79160001234",  # delivered
        ],
        text="Скидки https://shop.example.com",
    )
    got = statuses(campaign)
    assert got == {
        "+79160000000": S.UNDELIVERED,
        "+79160000001": S.UNDELIVERED,
        "+79160001111": S.FAILED,
        "+79160003333": S.CLICKED,
        "+79160004444": S.VIEWED,
        "+79160006666": S.UNSUBSCRIBED,
        "+79160001234": S.DELIVERED,
    }
    reasons = dict(campaign.messages.values_list("phone", "reason"))
    assert reasons["+79160000000"] == "Номер не зарегистрирован во ВКонтакте"
    assert reasons["+79160000001"] == "Пользователь неактивен"
    # 7 held at 1.20; 3 not delivered come back; 4 delivered stay charged.
    rich_user.account.refresh_from_db()
    assert before - rich_user.account.balance == Decimal("4.80")
    campaign.refresh_from_db()
    assert campaign.cost == Decimal("4.80")
    prices = dict(campaign.messages.values_list("phone", "price"))
    assert prices["+79160000000"] == 0 and prices["+79160001234"] == Decimal("1.20")
    refunds = LedgerEntry.objects.filter(
        account=rich_user.account, kind=LedgerKind.REFUND
    )
    assert any("недоставленные" in r.reason for r in refunds)
    # The recipient who unsubscribed stops getting this group's VK messages.
    assert Unsubscribe.objects.filter(
        account=rich_user.account, phone="+79160006666", channel="vk", sender=VK_GROUP
    ).exists()


def test_repeated_callbacks_refund_once(rich_user, approved, vk_tariffs, manual_vk):
    approved(rich_user)
    campaign = launch(rich_user, ["+79160000000", "+79160005555"])
    events = list(manual_vk.pending_events)
    assert {e["event"] for e in events} == {"undelivered", "delivered"}
    assert statuses(campaign) == {"+79160000000": S.SENT, "+79160005555": S.SENT}
    manual_vk.flush()
    from social.services import callbacks_apply

    callbacks_apply(channel="vk", events=events)  # the network repeats itself
    rich_user.account.refresh_from_db()
    assert rich_user.account.balance == Decimal("1000") - Decimal("1.20")
    assert (
        LedgerEntry.objects.filter(
            account=rich_user.account, kind=LedgerKind.REFUND
        ).count()
        == 1
    )


def test_ok_goes_to_its_own_network(rich_user, approved, vk_tariffs):
    approved(rich_user)
    campaign = launch(rich_user, ["+79160000000"], channel="ok", sender=OK_GROUP)
    assert campaign.messages.get().reason == "Номер не зарегистрирован в Одноклассниках"
    assert GatewaySubmission.objects.filter(channel="ok").count() == 1


def test_nothing_is_sent_before_a_name_is_approved(user):
    with pytest.raises(services.LaunchError) as exc:
        launch(user, ["+79161234567"], sender="")
    assert "заказать имя отправителя" in exc.value.message
    with pytest.raises(services.LaunchError) as exc:
        launch(user, ["+79161234567"])
    assert "не одобрено" in exc.value.message
    user.account.refresh_from_db()
    assert user.account.balance == Decimal("1000")


def test_the_networks_rules(user, approved):
    approved(user)
    with pytest.raises(services.LaunchError) as exc:
        launch(user, ["+79161234567"], text="я" * 2049)
    assert "2048" in exc.value.message
    launch(user, ["+79161234567"], text="я" * 2048)
    with pytest.raises(services.LaunchError) as exc:
        launch(user, ["+79161234568"], options={"ttl": 86400 + 60})
    assert "24 часов" in exc.value.message
    with pytest.raises(services.LaunchError):
        launch(user, ["+79161234568"], options={"ttl": 30})
    campaign = launch(user, ["+79161234568"], options={"ttl": 86400})
    message = campaign.messages.get()
    assert (message.expires_at - message.send_at).total_seconds() == 86400
    # SMS keeps its own 12 hours.
    with pytest.raises(services.LaunchError):
        services.campaign_launch(
            account=user.account,
            channel="sms",
            text="x",
            phones=["+79161234569"],
            options={"ttl": 86400},
        )


def test_a_recipient_gets_at_most_the_daily_limit_from_one_group(
    user, approved, settings
):
    settings.SOCIAL_DAILY_LIMIT = 2
    approved(user)
    phone = "+79161234567"
    launch(user, [phone])
    launch(user, [phone, "+79161230000"])
    with pytest.raises(services.LaunchError) as exc:
        launch(user, [phone])
    assert "Нет получателей" in exc.value.message
    quote = services.campaign_quote(
        account=user.account,
        channel="vk",
        text="x",
        sender=VK_GROUP,
        phones=[phone, "+79161239999"],
    )
    assert quote.messages == 1 and quote.excluded["blocked"] == 1
    # Another group, another network: their own limits.
    launch(user, [phone], channel="ok", sender=OK_GROUP)


def test_async_mode_reports_through_the_callbacks_task(user, approved, settings):
    """The default mode: the fake network's callbacks come later through a
    Celery task (eager in tests), after the batch commits."""
    from messaging import registry

    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "vk": {
            **settings.MESSAGING_GATEWAYS["vk"],
            "OPTIONS": {"mode": "async", "receipt_delay_seconds": 0},
        },
    }
    registry.reset_gateways()
    approved(user)
    campaign = launch(user, ["+79160004444", "+79160000001"])
    assert statuses(campaign) == {
        "+79160004444": S.VIEWED,
        "+79160000001": S.UNDELIVERED,
    }
    seen = campaign.messages.get(phone="+79160004444")
    assert seen.extra.get("settled") and seen.extra.get("billed_units") == 1


def test_a_message_without_a_report_expires_and_is_refunded(
    user, approved, manual_vk
):
    from datetime import timedelta

    from django.utils import timezone

    from messaging.statuses import sweep_unconfirmed

    approved(user)
    campaign = launch(user, ["+79160005555"], options={"ttl": 60})
    assert statuses(campaign) == {"+79160005555": S.SENT}
    manual_vk.pending_receipts.clear()  # the network never reports
    assert sweep_unconfirmed(channel="vk", now=timezone.now() + timedelta(minutes=2))
    assert statuses(campaign) == {"+79160005555": S.EXPIRED}
    user.account.refresh_from_db()
    assert user.account.balance == Decimal("1000")
