"""The events engine: outbox, claim, once per (handler, event), batches,
loop guard, rate breaker, event types."""

from decimal import Decimal

import pytest
from django.db import transaction

from contacts import services as contact_services
from contacts.models import Contact, Group
from events import services
from events.models import Event, Run
from messaging.models import Campaign, Message

pytestmark = pytest.mark.django_db


def welcome(account, *, group=None, **extra):
    conditions = (
        [{"field": "group", "op": "eq", "value": str(group.pk)}] if group else []
    )
    return services.handler_save(
        account=account,
        kind="contact_added",
        name="Приветствие",
        conditions=conditions,
        actions=[
            {"kind": "sms_contact", "config": {"text": "Привет, [Имя]!", "sender": ""}}
        ],
        **extra,
    )


def add_contact(account, group, phone="+79161234567", name="Иван", source="manual"):
    with transaction.atomic():
        return contact_services.contact_create(
            account=account,
            group=group,
            data={"phone": phone, "first_name": name},
            source=source,
        )


def test_contact_added_sends_welcome_sms_once(user):
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    handler = welcome(account, group=group)
    add_contact(account, group)
    run = Run.objects.get(handler=handler)
    assert run.outcome == Run.Outcome.OK, run.results
    campaign = Campaign.objects.get(account=account, source="event")
    message = Message.objects.get(campaign=campaign)
    assert message.phone == "+79161234567"
    assert message.text == "Привет, Иван!"
    assert run.cost == campaign.cost > 0
    assert "добавлен (вручную)" in run.trigger
    assert Event.objects.get().state == Event.State.DONE
    # Processing again changes nothing: once per (handler, event).
    Event.objects.update(state=Event.State.PENDING)
    services.events_process()
    assert Run.objects.count() == 1
    assert Campaign.objects.filter(source="event").count() == 1


def test_a_handler_for_another_group_does_not_run(user):
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    other = Group.objects.create(account=account, name="Партнёры")
    welcome(account, group=group)
    add_contact(account, other)
    assert not Run.objects.exists()
    assert not Campaign.objects.filter(source="event").exists()


def test_inactive_handler_records_nothing(user):
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    handler = welcome(account)
    services.handler_set_active(handler=handler, active=False)
    add_contact(account, group)
    assert not Event.objects.exists()


def test_every_way_of_adding_is_an_event(user):
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    target = Group.objects.create(account=account, name="VIP")
    welcome(account)
    add_contact(account, group, "+79160000001", source="api")
    with transaction.atomic():
        contact_services.contacts_quick_add(
            account_id=account.pk, group=group, text="+79160000002, 89160000003"
        )
    contact = Contact.objects.get(phone="+79160000001")
    contact_services.contacts_copy(
        account_id=account.pk, contact_ids=[contact.pk], target=target
    )
    triggers = list(Run.objects.order_by("id").values_list("trigger", flat=True))
    assert "через API" in triggers[0]
    assert "Добавлено контактов: 2 (быстрое добавление)" in triggers[1]
    assert "копирование или перенос" in triggers[2]
    phones = set(
        Message.objects.filter(campaign__source="event").values_list("phone", flat=True)
    )
    assert phones == {"+79160000001", "+79160000002", "+79160000003"}


def test_import_is_one_event_and_a_few_campaigns(make_user, tmp_path, monkeypatch):
    from contacts.models import ImportJob
    from events import actions

    monkeypatch.setattr(actions, "CAMPAIGN_CHUNK", 400)
    account = make_user("rich@example.com", balance=Decimal("100000")).account
    group = Group.objects.create(account=account, name="Импорт")
    welcome(account, group=group)
    path = tmp_path / "c.csv"
    path.write_text(
        "phone;name\n" + "\n".join(f"+7916{i:07d};Имя{i}" for i in range(1000)),
        encoding="utf-8",
    )
    job = ImportJob.objects.create(
        account=account,
        group=group,
        filename="c.csv",
        path=str(path),
        kind="csv",
        mapping={"0": "phone", "1": "first_name"},
        has_header=True,
        status=ImportJob.Status.QUEUED,
    )
    contact_services.import_job_run(job_id=job.pk)
    assert Contact.objects.filter(group=group).count() == 1000
    assert Event.objects.count() == 1
    run = Run.objects.get()
    assert run.subjects == 1000 and run.outcome == Run.Outcome.OK, run.results
    assert "загрузка из файла" in run.trigger
    campaigns = Campaign.objects.filter(source="event")
    assert campaigns.count() == 3
    assert Message.objects.filter(campaign__in=campaigns).count() == 1000
    assert run.cost == sum(c.cost for c in campaigns)


def test_pending_events_of_one_claim_share_campaigns(user, monkeypatch):
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    handler = welcome(account)
    monkeypatch.setattr(services, "_kick", lambda: None)
    for i in range(30):
        add_contact(account, group, f"+7916000{i:04d}", source="api")
    assert Event.objects.filter(state="pending").count() == 30
    assert services.events_process() == 30
    assert Run.objects.filter(handler=handler).count() == 30
    assert Campaign.objects.filter(source="event").count() == 1
    assert Message.objects.filter(campaign__source="event").count() == 30


def test_a_worker_dying_mid_batch_leaves_the_events_pending(user, monkeypatch):
    from events import actions

    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    welcome(account)
    monkeypatch.setattr(services, "_kick", lambda: None)
    add_contact(account, group)

    def die(*args, **kwargs):
        raise KeyboardInterrupt  # not an Exception: the worker is gone

    real = actions.run
    monkeypatch.setattr(actions, "run", die)
    with pytest.raises(KeyboardInterrupt):
        services.events_process()
    assert Event.objects.get().state == "pending"
    assert not Run.objects.exists()
    assert not Campaign.objects.filter(source="event").exists()
    monkeypatch.setattr(actions, "run", real)
    services.events_process()
    services.events_process()
    assert Run.objects.count() == 1
    assert Campaign.objects.filter(source="event").count() == 1


def test_run_is_unique_per_handler_and_event(user):
    from django.db import IntegrityError

    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    welcome(account)
    add_contact(account, group)
    run = Run.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Run.objects.create(
            account=account, handler=run.handler, event=run.event, outcome="ok"
        )


def test_a_loop_stops_at_the_chain_limit(user):
    account = user.account
    a = Group.objects.create(account=account, name="A")
    b = Group.objects.create(account=account, name="B")
    for src, dst in ((a, b), (b, a)):
        services.handler_save(
            account=account,
            kind="contact_added",
            name=f"{src.name}→{dst.name}",
            conditions=[{"field": "group", "op": "eq", "value": str(src.pk)}],
            actions=[{"kind": "group_move", "config": {"group": str(dst.pk)}}],
        )
    add_contact(account, a)
    depths = list(Event.objects.order_by("id").values_list("depth", flat=True))
    assert depths == [0, 1, 2, 3]
    last = Run.objects.order_by("-id").first()
    assert last.outcome == Run.Outcome.DEPTH
    assert "Цепочка событий длиннее 3 шагов" in last.results[0]
    assert Contact.objects.filter(account=account).count() == 1


def test_rate_breaker_switches_the_handler_off(user):
    from cabinet.models import Notification

    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    handler = welcome(account, max_runs_per_hour=2)
    for i in range(3):
        add_contact(account, group, f"+7916111{i:04d}")
    outcomes = list(Run.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["ok", "ok", "rate"]
    handler.refresh_from_db()
    assert not handler.is_active
    assert "ограничитель" in handler.stopped_reason
    assert Notification.objects.filter(account=account, title__contains="выключен")
    add_contact(account, group, "+79161119999")
    assert Run.objects.count() == 3


def test_message_status_events(user):
    from messaging.services import campaign_launch

    account = user.account
    handler = services.handler_save(
        account=account,
        kind="message_delivered",
        conditions=[{"field": "channel", "op": "eq", "value": "sms"}],
        actions=[
            {
                "kind": "sms_staff",
                "config": {"text": "Доставлено", "phones": "+79035551234"},
            }
        ],
    )
    with transaction.atomic():
        campaign_launch(
            account=account, channel="sms", text="Тест", phones=["+79161234567"]
        )
    run = Run.objects.filter(handler=handler).order_by("id").first()
    assert "+79161234567" in run.trigger
    staff = Message.objects.filter(phone="+79035551234")
    assert staff.count() == 3 and staff.first().text == "Доставлено"
    # The staff SMS is delivered too — an event one step deeper, which sends
    # another… until the chain limit stops it.
    depths = list(Event.objects.order_by("id").values_list("depth", flat=True))
    assert depths == [0, 1, 2, 3]
    outcomes = list(Run.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["ok", "ok", "ok", "depth"]


def test_replies_are_events_once(user):
    from messaging.signals import replies_received

    account = user.account
    handler = services.handler_save(
        account=account,
        kind="reply_received",
        conditions=[{"field": "text", "op": "contains", "value": "стоп"}],
        actions=[
            {
                "kind": "sms_staff",
                "config": {"text": "Клиент просит стоп", "phones": "+79035551234"},
            }
        ],
    )
    reply = {
        "account_id": account.pk,
        "phone": "+79161234567",
        "text": "СТОП, пожалуйста",
        "external_id": "r-1",
        "contact_id": None,
    }
    for _ in range(2):
        replies_received.send(sender=None, channel="viber", replies=[reply])
    replies_received.send(
        sender=None,
        channel="viber",
        replies=[{**reply, "external_id": "r-2", "text": "ок"}],
    )
    assert Event.objects.filter(kind="reply_received").count() == 2
    run = Run.objects.get(handler=handler)
    assert "СТОП" in run.trigger


def test_balance_below_threshold_and_payment(user):
    from billing.services import ledger_post

    account = user.account  # 1000 ₽
    low = services.handler_save(
        account=account,
        kind="balance_low",
        settings={"threshold": "500"},
        actions=[
            {
                "kind": "sms_staff",
                "config": {"text": "Пополните баланс", "phones": "+79035551234"},
            }
        ],
    )
    paid = services.handler_save(
        account=account,
        kind="payment_credited",
        conditions=[{"field": "amount", "op": "gt", "value": "100"}],
        actions=[{"kind": "webhook", "config": {"url": "https://example.com/paid"}}],
    )
    with transaction.atomic():
        ledger_post(
            account_id=account.pk, amount=Decimal("-400"), kind="charge", reason="x"
        )
    assert not Run.objects.filter(handler=low).exists()
    with transaction.atomic():
        ledger_post(
            account_id=account.pk, amount=Decimal("-200"), kind="charge", reason="y"
        )
    run = Run.objects.get(handler=low)
    assert "Баланс 400,00" in run.trigger
    assert Message.objects.filter(
        phone="+79035551234", text="Пополните баланс"
    ).exists()
    with transaction.atomic():
        ledger_post(
            account_id=account.pk, amount=Decimal("50"), kind="topup", reason="p1"
        )
        ledger_post(
            account_id=account.pk, amount=Decimal("500"), kind="topup", reason="p2"
        )
    run = Run.objects.get(handler=paid)
    assert "500,00" in run.trigger
    call = run.webhooks.get()
    assert call.url == "https://example.com/paid"


def test_webhook_is_signed_and_retried(user, monkeypatch):
    import json

    from events.models import WebhookCall
    from integrations import services as integ
    from integrations.services import PostResult, sign

    account = user.account
    handler = services.handler_save(
        account=account,
        kind="payment_credited",
        actions=[{"kind": "webhook", "config": {"url": "https://example.com/paid"}}],
    )
    secret = handler.actions.get().config["secret"]
    posts = []

    def fake_post(url, body, headers, timeout):
        posts.append((url, body, headers))
        ok = len(posts) > 1
        return PostResult(ok, 200 if ok else 503, "" if ok else "HTTP 503", "", 5)

    monkeypatch.setattr(integ, "http_post", fake_post)
    from billing.services import ledger_post

    with transaction.atomic():
        ledger_post(
            account_id=account.pk, amount=Decimal("300"), kind="topup", reason="p"
        )
    call = WebhookCall.objects.get()
    assert call.state == "pending" and call.attempts == 1 and call.status_code == 503
    WebhookCall.objects.update(next_attempt_at=call.created_at)
    assert services.webhook_call_deliver(call_id=call.pk) is True
    call.refresh_from_db()
    assert call.state == "delivered" and call.attempts == 2
    url, body, headers = posts[-1]
    assert headers["X-Signature"] == sign(secret, headers["X-Timestamp"], body)
    data = json.loads(body)
    assert data["event"] == "payment_credited"
    assert data["subjects"][0]["amount"] == "300.00"


def test_contact_date_in_the_contacts_time_zone(user):
    import datetime as dt

    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    handler = services.handler_save(
        account=account,
        kind="contact_date",
        settings={"date_field": "birth_date", "at": "10:00"},
        actions=[
            {"kind": "sms_contact", "config": {"text": "С днём рождения, [Имя]!"}}
        ],
    )
    for phone, tz in (
        ("+79161230001", "Asia/Vladivostok"),
        ("+79161230002", "Europe/Moscow"),
    ):
        Contact.objects.create(
            account=account,
            group=group,
            phone=phone,
            first_name="Иван",
            birth_date=dt.date(1990, 3, 15),
            timezone=tz,
        )
    # 10:30 in Vladivostok (UTC+10) is 03:30 in Moscow: only the first is due.
    now = dt.datetime(2026, 3, 15, 0, 30, tzinfo=dt.UTC)
    assert services.dates_due(now=now) >= 1
    assert services.dates_due(now=now) == 0
    services.events_process()
    run = Run.objects.get(handler=handler)
    assert run.subjects == 1
    msg = Message.objects.get(campaign__source="event")
    assert msg.phone == "+79161230001" and msg.text == "С днём рождения, Иван!"
    later = dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC)  # 11:00 in Moscow
    services.dates_due(now=later)
    services.events_process()
    assert Message.objects.filter(campaign__source="event").count() == 2


def test_campaign_finished(user):
    from messaging.services import campaign_launch

    account = user.account
    handler = services.handler_save(
        account=account,
        kind="campaign_finished",
        actions=[{"kind": "webhook", "config": {"url": "https://example.com/done"}}],
    )
    with transaction.atomic():
        campaign = campaign_launch(
            account=account, channel="sms", text="Тест", phones=["+79161234567"]
        )
    campaign.refresh_from_db()
    assert campaign.status == "done"
    assert services.campaigns_finished() == 1
    assert services.campaigns_finished() == 0
    services.events_process()
    run = Run.objects.get(handler=handler)
    assert f"№{campaign.pk}" in run.trigger


def test_viber_message_to_the_contact(user):
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    handler = services.handler_save(
        account=account,
        kind="contact_added",
        actions=[
            {
                "kind": "viber_contact",
                "config": {
                    "format": "text_button",
                    "text": "Привет, [Имя]!",
                    "button_text": "Каталог",
                    "button_url": "https://example.com/catalog",
                },
            }
        ],
    )
    add_contact(account, group)
    run = Run.objects.get(handler=handler)
    assert run.outcome == Run.Outcome.OK, run.results
    campaign = Campaign.objects.get(source="event")
    assert campaign.channel == "viber"
    assert campaign.content["button_text"] == "Каталог"
    assert Message.objects.get(campaign=campaign).text == "Привет, Иван!"


def test_old_events_without_runs_are_purged(user):
    import datetime as dt

    from django.utils import timezone

    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    other = Group.objects.create(account=account, name="Партнёры")
    welcome(account, group=group)
    add_contact(account, group, "+79160000001")
    add_contact(account, other, "+79160000002")  # no run: conditions
    Event.objects.update(processed_at=timezone.now() - dt.timedelta(days=31))
    assert services.events_purge(days=30) == 1
    assert Event.objects.count() == 1 and Run.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_skips_claimed_events(user, monkeypatch):
    """Two workers at once: the events one holds (FOR UPDATE) are skipped by
    the other (SKIP LOCKED), which neither waits nor runs them."""
    import threading

    from django.db import connection

    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SKIP LOCKED needs PostgreSQL")
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    welcome(account)
    monkeypatch.setattr(services, "_kick", lambda: None)
    add_contact(account, group)
    locked, release = threading.Event(), threading.Event()

    def first_worker():
        from django.db import connection as own

        try:
            with transaction.atomic():
                list(Event.objects.select_for_update().filter(state="pending"))
                locked.set()
                release.wait(20)
        finally:
            own.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert locked.wait(20)
    try:
        assert services.events_process() == 0
    finally:
        release.set()
        thread.join()
    assert not Run.objects.exists()
    assert services.events_process() == 1
    assert Run.objects.count() == 1


def test_a_condition_on_how_the_contact_came(user):
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    handler = services.handler_save(
        account=account,
        kind="contact_added",
        # The label as a person types it: «через API» means "api".
        conditions=[{"field": "source", "op": "eq", "value": "через API"}],
        actions=[{"kind": "sms_contact", "config": {"text": "Привет"}}],
    )
    assert handler.conditions[0]["value"] == "api"
    add_contact(account, group, "+79160000001", source="manual")
    add_contact(account, group, "+79160000002", source="api")
    run = Run.objects.get(handler=handler)
    assert "+79160000002" in run.trigger


def test_staff_sms_speaks_of_the_events_contact(user):
    """«Рассылка смс сотрудникам»: the substitutions are the new contact's
    (manual 12.1: tell the staff who was added), not the employee's; a batch
    of several is one SMS per employee about the first, with how many more."""
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    services.handler_save(
        account=account,
        kind="contact_added",
        conditions=[],
        actions=[
            {
                "kind": "sms_staff",
                "config": {
                    "text": "Новый клиент [Имя], [Телефон]",
                    "phones": "+79035551234",
                },
            }
        ],
    )
    add_contact(account, group, phone="+79161234567", name="Иван")
    staff = Message.objects.filter(phone="+79035551234").order_by("id")
    assert [m.text for m in staff] == ["Новый клиент Иван, +79161234567"]
    contact_services.group_add_phones(
        account_id=account.pk,
        phones=["+79161230001", "+79161230002", "+79161230003"],
        group_id=group.pk,
    )
    assert [m.text for m in staff.all()][1:] == [
        "Новый клиент , +79161230001 (и ещё 2)"
    ]


def test_staff_sms_reads_the_contacts_custom_fields(user):
    """The subject's phonebook fields are read for the staff SMS even when no
    condition asked for them (a custom field lives in ``Contact.extra``)."""
    from contacts.models import CustomField

    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    CustomField.objects.create(account=account, key="city", name="Город")
    services.handler_save(
        account=account,
        kind="contact_added",
        conditions=[],
        actions=[
            {
                "kind": "sms_staff",
                "config": {"text": "Клиент из [Город]", "phones": "+79035551234"},
            }
        ],
    )
    with transaction.atomic():
        contact_services.contact_create(
            account=account,
            group=group,
            data={"phone": "+79161234567", "extra": {"city": "Казань"}},
            source="manual",
        )
    staff = Message.objects.get(phone="+79035551234")
    assert staff.text == "Клиент из Казань"
