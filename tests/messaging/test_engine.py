"""The engine: group audiences, settlement of the hold, smooth sending, windows,
TTL, pause/resume, moderation, resumable preparation."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing.selectors import ledger_sum
from cabinet.formats import money_ru
from cabinet.models import Account
from contacts.models import Contact, Group, StopNumber, Unsubscribe
from messaging import registry, services
from messaging.dispatch import dispatch_channel
from messaging.models import Campaign, GatewaySubmission, Message
from messaging.prepare import Preparer, audience_entries, campaign_prepare
from messaging.timing import SendPlanner, next_allowed, parse_smooth, parse_window

pytestmark = pytest.mark.django_db


def assert_ledger_exact(account_id):
    account = Account.objects.get(pk=account_id)
    assert ledger_sum(account_id=account_id) == account.balance
    return account


def make_group(account, phones, name="Клиенты", **contact_fields):
    group = Group.objects.create(account=account, name=name)
    for phone in phones:
        Contact.objects.create(
            account=account,
            group=group,
            phone=phone,
            country="RU",
            operator="МТС",
            timezone="Europe/Moscow",
            **contact_fields,
        )
    return group


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


def test_a_group_campaign_is_prepared_deduplicated_and_stop_listed(user):
    account = user.account
    g1 = make_group(account, ["+79161110015", "+79161110025", "+79161110035"])
    g2 = make_group(account, ["+79161110035", "+79161110045"], name="Другие")
    StopNumber.objects.create(account=account, phone="+79161110025")
    Unsubscribe.objects.create(
        account=account, phone="+79161110045", channel="sms", sender="SMSinfo"
    )
    campaign = services.campaign_launch(
        account=account,
        channel="sms",
        text="Привет",
        group_ids=[g1.pk, g2.pk],
        sender="SMSinfo",
    )
    campaign.refresh_from_db()
    phones = sorted(campaign.messages.values_list("phone", flat=True))
    assert phones == ["+79161110015", "+79161110035"]
    assert campaign.recipients == 2
    assert set(campaign.messages.values_list("status", flat=True)) == {"delivered"}
    # The hold was for 5 contacts; settlement refunded the 3 not sent.
    account = assert_ledger_exact(account.pk)
    total = sum(campaign.messages.values_list("price", flat=True))
    assert account.balance == Decimal("1000") - total
    assert campaign.cost == total


def test_a_foreign_group_is_refused(user, other_user):
    foreign = make_group(other_user.account, ["+79161110001"])
    with pytest.raises(services.LaunchError) as exc:
        services.campaign_launch(
            account=user.account, channel="sms", text="x", group_ids=[foreign.pk]
        )
    assert exc.value.code == "not_found"
    assert not Campaign.objects.exists()


def test_substitutions_make_each_text_personal_and_priced_by_its_parts(user):
    group = Group.objects.create(account=user.account, name="Г")
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79161110001",
        first_name="Иван",
        gender="m",
        country="RU",
    )
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79161110002",
        first_name="Мария" * 20,
        gender="f",
        country="RU",
    )
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="[Уважаемый] [Имя]!",
        group_ids=[group.pk],
    )
    texts = dict(campaign.messages.values_list("phone", "text"))
    assert texts["+79161110001"] == "Уважаемый Иван!"
    assert texts["+79161110002"].startswith("Уважаемая Мария")
    parts = dict(campaign.messages.values_list("phone", "parts"))
    assert parts == {"+79161110001": 1, "+79161110002": 2}
    assert_ledger_exact(user.account_id)


def test_a_launch_the_account_cannot_pay_names_the_quoted_price(make_user):
    """The hold is the planner's exact total (two long names need 2 parts), so
    «Недостаточно средств» shows the quote's figure and nothing changes."""
    poor = make_user(balance=Decimal("6"))
    group = Group.objects.create(account=poor.account, name="Г")
    for i in range(3):
        Contact.objects.create(
            account=poor.account,
            group=group,
            phone=f"+7916111000{i}",
            first_name="Длинное имя " * 8 if i else "",
            country="RU",
        )
    quote = services.campaign_quote(
        account=poor.account, channel="sms", text="[Имя]", group_ids=[group.pk]
    )
    assert quote.units == 5
    with pytest.raises(services.LaunchError) as refused:
        services.campaign_launch(
            account=poor.account, channel="sms", text="[Имя]", group_ids=[group.pk]
        )
    assert refused.value.code == "insufficient_funds"
    assert f"стоимость {money_ru(quote.total)}" in refused.value.message
    assert not Campaign.objects.filter(account=poor.account).exists()
    account = assert_ledger_exact(poor.account_id)
    assert account.balance == Decimal("6")


def test_settlement_cuts_what_the_hold_does_not_cover(user, monkeypatch):
    """Contacts added between the launch and its preparation are not charged
    beyond the hold: the last messages are cancelled instead."""
    group = make_group(user.account, ["+79161110015", "+79161110025"])
    monkeypatch.setattr("messaging.services._enqueue_prepare", lambda campaign_id: None)
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="Привет", group_ids=[group.pk]
    )
    held = campaign.cost
    Contact.objects.create(
        account=user.account, group=group, phone="+79161110035", country="RU"
    )
    campaign_prepare(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.cost == held
    cancelled = campaign.messages.get(status="cancelled")
    assert cancelled.refunded and cancelled.reason.startswith("Сверх оплаченной")
    account = assert_ledger_exact(user.account_id)
    assert Decimal("1000") - account.balance == held


def test_preparation_resumes_without_writing_anyone_twice(user, monkeypatch):
    group = make_group(user.account, [f"+7916111{i:04d}" for i in range(30)])
    monkeypatch.setattr("messaging.prepare.CHUNK", 10)
    monkeypatch.setattr("messaging.services.INLINE_PREPARE_LIMIT", 0)
    # Launch without running the prepare task: pretend the worker died after the
    # first chunk committed.
    monkeypatch.setattr("messaging.services._enqueue_prepare", lambda campaign_id: None)
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="x", group_ids=[group.pk]
    )
    preparer = Preparer(Campaign.objects.get(pk=campaign.pk))
    first = next(audience_entries(campaign))
    preparer.write_chunk(first, len(first))
    assert Message.objects.filter(campaign=campaign).count() == 10
    campaign_prepare(campaign_id=campaign.pk)
    campaign_prepare(campaign_id=campaign.pk)  # a duplicate task changes nothing
    phones = list(
        Message.objects.filter(campaign=campaign).values_list("phone", flat=True)
    )
    assert len(phones) == 30 == len(set(phones))
    dispatch_channel(channel="sms")
    assert GatewaySubmission.objects.count() == 30
    assert_ledger_exact(user.account_id)


def test_smooth_sending_spreads_equal_portions():
    start = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("UTC"))
    planner = SendPlanner(
        start=start,
        total=10,
        window=None,
        smooth=parse_smooth({"portions": 5, "interval_minutes": 30}),
    )
    times = [planner.send_at(i, "Europe/Moscow") for i in range(10)]
    assert [t - start for t in times[::2]] == [
        timedelta(minutes=30 * k) for k in range(5)
    ]
    assert times[0] == times[1]


def test_the_window_is_in_the_recipients_local_time():
    window = parse_window({"from": "09:00", "to": "21:00", "weekdays": [1, 2, 3, 4, 5]})
    # 20:00 UTC on Friday = 23:00 in Moscow, 03:00 Saturday in Vladivostok.
    at = datetime(2026, 3, 6, 20, 0, tzinfo=ZoneInfo("UTC"))
    moscow = next_allowed(at, "Europe/Moscow", window).astimezone(
        ZoneInfo("Europe/Moscow")
    )
    assert (moscow.isoweekday(), moscow.hour, moscow.minute) == (1, 9, 0)
    # 05:00 UTC Monday is 08:00 in Moscow (wait an hour) and 15:00 in Vladivostok (now).
    monday = datetime(2026, 3, 9, 5, 0, tzinfo=ZoneInfo("UTC"))
    assert next_allowed(monday, "Asia/Vladivostok", window) == monday
    assert next_allowed(monday, "Europe/Moscow", window) == monday + timedelta(hours=1)


def test_overnight_window():
    window = parse_window({"from": "22:00", "to": "06:00"})
    at = datetime(2026, 3, 9, 12, 0, tzinfo=ZoneInfo("UTC"))  # 15:00 Moscow
    got = next_allowed(at, "Europe/Moscow", window).astimezone(
        ZoneInfo("Europe/Moscow")
    )
    assert (got.day, got.hour) == (9, 22)


@pytest.mark.parametrize(
    "options,field",
    [
        ({"ttl": 13 * 3600}, "options"),
        ({"smooth": {"portions": 1, "interval_minutes": 5}}, "options"),
        ({"window": {"from": "25:00", "to": "10:00"}}, "options"),
    ],
)
def test_bad_options_are_refused_with_a_reason(user, options, field):
    with pytest.raises(services.LaunchError) as exc:
        services.campaign_launch(
            account=user.account,
            channel="sms",
            text="x",
            phones=["+79161234567"],
            options=options,
        )
    assert exc.value.field == field
    assert not Campaign.objects.exists()
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1000")


def test_expired_messages_are_refunded(user, manual_gateway):
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="x",
        phones=["+79161234567"],
        options={"ttl": 60},
        send_at=timezone.now() - timedelta(minutes=1),
    )
    message = campaign.messages.get()
    assert message.status == "expired"
    assert message.refunded
    assert not GatewaySubmission.objects.exists()
    account = assert_ledger_exact(user.account_id)
    assert account.balance == Decimal("1000")


def test_a_scheduled_campaign_waits_then_goes(user, manual_gateway):
    later = timezone.now() + timedelta(hours=1)
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="x",
        phones=["+79161234567"],
        send_at=later,
    )
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"
    assert services.campaign_counters(campaign_id=campaign.pk)["deferred"] == 1
    dispatch_channel(channel="sms")
    assert not GatewaySubmission.objects.exists()
    Message.objects.filter(campaign=campaign).update(send_at=timezone.now())
    dispatch_channel(channel="sms")
    assert GatewaySubmission.objects.count() == 1
    counters = services.campaign_counters(campaign_id=campaign.pk)
    assert counters["deferred"] == 0 and counters["sent"] == 1
    assert Campaign.objects.get(pk=campaign.pk).status == "done"


def test_pause_stops_dispatch_and_resume_continues(user, manual_gateway, monkeypatch):
    monkeypatch.setattr("messaging.prepare.enqueue_dispatch", lambda channel: None)
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="x",
        phones=["+79161234567", "+79031112233"],
    )
    assert services.campaign_pause(campaign=campaign)
    dispatch_channel(channel="sms")
    assert not GatewaySubmission.objects.exists()
    assert services.campaign_resume(campaign=campaign)
    dispatch_channel(channel="sms")
    assert GatewaySubmission.objects.count() == 2
    assert not services.campaign_resume(campaign=campaign)


def test_cancelling_a_running_campaign_refunds_only_the_unsent(
    user, manual_gateway, monkeypatch, settings
):
    monkeypatch.setattr("messaging.prepare.enqueue_dispatch", lambda channel: None)
    settings.MESSAGING_DISPATCH_BATCH = 1
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="x",
        phones=["+79161234567", "+79031112233"],
    )
    from messaging.dispatch import dispatch_batch

    dispatch_batch(channel="sms")
    assert services.campaign_cancel(campaign=campaign) == 1
    statuses = sorted(campaign.messages.values_list("status", flat=True))
    assert statuses == ["cancelled", "sent"]
    sent_price = campaign.messages.get(status="sent").price
    account = assert_ledger_exact(user.account_id)
    assert account.balance == Decimal("1000") - sent_price


def test_moderation_holds_the_campaign_until_staff_approve(make_user, manual_gateway):
    newcomer = make_user(trusted=False)
    campaign = services.campaign_launch(
        account=newcomer.account, channel="sms", text="x", phones=["+79161234567"]
    )
    campaign.refresh_from_db()
    assert campaign.status == "moderation"
    assert campaign.messages.get().status == "moderation"
    dispatch_channel(channel="sms")
    assert not GatewaySubmission.objects.exists()
    services.campaign_moderate(campaign=campaign, approve=True)
    dispatch_channel(channel="sms")
    assert GatewaySubmission.objects.count() == 1
    assert newcomer.account.notifications.filter(kind="moderation").exists()


def test_a_rejected_campaign_is_refunded_once(make_user):
    newcomer = make_user(trusted=False)
    campaign = services.campaign_launch(
        account=newcomer.account, channel="sms", text="x", phones=["+79161234567"]
    )
    services.campaign_moderate(campaign=campaign, approve=False, reason="Спам")
    services.campaign_moderate(campaign=campaign, approve=False, reason="Спам")
    campaign.refresh_from_db()
    assert campaign.status == "rejected"
    account = assert_ledger_exact(newcomer.account_id)
    assert account.balance == Decimal("1000")


def test_client_id_makes_a_launch_idempotent(user):
    a = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="x",
        phones=["+79161234567"],
        client_id="k-1",
    )
    b = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="x",
        phones=["+79161234567"],
        client_id="k-1",
    )
    assert a.pk == b.pk
    assert Message.objects.count() == 1


def test_service_sms_is_free(user):
    message = services.service_sms_send(
        account=user.account, phone="+79161234567", text="Код входа: 1234"
    )
    assert message.price == 0
    assert message.status == "delivered"
    account = assert_ledger_exact(user.account_id)
    assert account.balance == Decimal("1000")


def test_quote_prices_the_audience_before_sending(user):
    group = make_group(user.account, ["+79161110001", "+79161110002"])
    StopNumber.objects.create(account=user.account, phone="+79161110002")
    quote = services.campaign_quote(
        account=user.account,
        channel="sms",
        text="я" * 71,
        group_ids=[group.pk],
        phones=["+79031112233", "abc"],
    )
    assert quote.messages == 2
    assert quote.units == 4
    assert quote.excluded == {"invalid": 1, "blocked": 1, "duplicates": 0}
    assert quote.total > 0
    assert not Campaign.objects.exists()


def test_status_changes_are_announced_after_commit(user):
    from messaging.signals import statuses_changed

    seen = []

    def receiver(sender, channel, changes, **kwargs):
        seen.extend(changes)

    statuses_changed.connect(receiver)
    try:
        campaign = services.campaign_launch(
            account=user.account, channel="sms", text="x", phones=["+79161234567"]
        )
    finally:
        statuses_changed.disconnect(receiver)
    message_id = campaign.messages.get().pk
    assert ("sending", "sent") in {(old, new) for mid, _cid, old, new in seen}
    assert (message_id, campaign.pk, "sent", "delivered") in seen


def test_a_coupon_command_without_a_promo_action_is_refused(user):
    with pytest.raises(services.LaunchError) as exc:
        services.campaign_launch(
            account=user.account,
            channel="sms",
            text="Ваш код: [couponCode]",
            phones=["+79161234567"],
        )
    assert exc.value.code == "promo_action_required"
    assert not Campaign.objects.exists()


def test_a_campaign_that_fails_while_preparing_is_cancelled_and_refunded(
    user, monkeypatch
):
    group = make_group(user.account, ["+79161110015", "+79161110025"])

    def explode(self, entries, consumed):
        raise services.LaunchError("Не хватает промокодов нужной длины.")

    monkeypatch.setattr("messaging.prepare.Preparer.write_chunk", explode)
    monkeypatch.setattr(
        "messaging.prepare.prepare_in_database",
        lambda preparer: explode(preparer, [], 0),
    )
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="x", group_ids=[group.pk]
    )
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"
    assert campaign.moderation_note == "Не хватает промокодов нужной длины."
    account = assert_ledger_exact(user.account_id)
    assert account.balance == Decimal("1000")
    assert user.account.notifications.filter(title__contains="не отправлена").exists()


def test_beat_restarts_only_preparations_that_went_silent(user, monkeypatch):
    from messaging import tasks

    group = make_group(user.account, ["+79161110015"])
    monkeypatch.setattr("messaging.services._enqueue_prepare", lambda campaign_id: None)
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="x", group_ids=[group.pk]
    )
    started = []
    monkeypatch.setattr(tasks.prepare_campaign, "delay", started.append)
    monkeypatch.setattr(tasks.dispatch_channel, "delay", lambda channel: None)
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=timezone.now())
    tasks.dispatch_all()
    assert started == []
    Campaign.objects.filter(pk=campaign.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    tasks.dispatch_all()
    assert started == [campaign.pk]


def test_a_second_task_leaves_a_preparation_in_progress_alone(user, monkeypatch):
    group = make_group(user.account, ["+79161110015", "+79161110025"])
    monkeypatch.setattr("messaging.services._enqueue_prepare", lambda campaign_id: None)
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="x", group_ids=[group.pk]
    )
    # Another task has already moved the position: this one must not settle.
    Campaign.objects.filter(pk=campaign.pk).update(prepared=1)
    stale = Campaign.objects.get(pk=campaign.pk)
    stale.prepared = 0
    from messaging.prepare import ELSEWHERE

    assert Preparer(stale).write_chunk([{"phone": "+79161110015"}], 1) == ELSEWHERE
    assert Campaign.objects.get(pk=campaign.pk).status == "preparing"


def test_the_database_path_writes_what_the_per_recipient_path_would(user, monkeypatch):
    """On PostgreSQL a same-text group campaign is one INSERT … SELECT; it must
    pick, price and de-duplicate exactly as the per-recipient path does."""
    from billing.models import Tariff
    from billing.selectors import PriceList

    Tariff.objects.update_or_create(
        channel="sms",
        country="RU",
        operator="Билайн",
        tier=0,
        defaults={"price": Decimal("1.50")},
    )
    Tariff.objects.update_or_create(
        channel="sms",
        country="KZ",
        operator="",
        tier=0,
        defaults={"price": Decimal("3.10")},
    )
    account = user.account
    g1 = Group.objects.create(account=account, name="A")
    g2 = Group.objects.create(account=account, name="B")
    rows = [
        (g1, "+79161110015", "RU", "МТС"),
        (g1, "+79031110025", "RU", "Билайн"),
        (g2, "+79161110015", "RU", "МТС"),
        (g2, "+77011110035", "KZ", ""),
        (g2, "+79261110045", "", ""),
        (g1, "+79161110055", "RU", "МТС"),
    ]
    for group, phone, country, operator in rows:
        Contact.objects.create(
            account=account,
            group=group,
            phone=phone,
            country=country,
            operator=operator,
            timezone="Europe/Moscow",
        )
    StopNumber.objects.create(account=account, phone="+79161110055")
    campaign = services.campaign_launch(
        account=account, channel="sms", text="Привет", group_ids=[g1.pk, g2.pk]
    )
    campaign.refresh_from_db()
    got = {m.phone: (m.price, m.contact_id) for m in campaign.messages.all()}
    prices = PriceList(account=account, channel="sms")
    first_contact = {}
    for c in Contact.objects.filter(account=account).order_by("id"):
        first_contact.setdefault(c.phone, c.pk)
    expected = {}
    for phone, country, operator in [
        ("+79161110015", "RU", "МТС"),
        ("+79031110025", "RU", "Билайн"),
        ("+77011110035", "KZ", ""),
        ("+79261110045", "RU", ""),
    ]:
        expected[phone] = (prices.price(country, operator), first_contact[phone])
    assert got == expected
    assert campaign.recipients == 4
    assert services.campaign_counters(campaign_id=campaign.pk)["delivered"] == 4
    account = assert_ledger_exact(user.account_id)
    assert Decimal("1000") - account.balance == sum(p for p, _ in got.values())
