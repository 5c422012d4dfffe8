"""Moderation is one model (cabinet.moderation): sender names, moderation
templates and campaigns are decided by one service and one admin behaviour,
and each kind has a registered staff queue."""

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from cabinet import moderation as decisions
from cabinet.models import Account, Notification
from messaging import decisions as messaging_decisions
from messaging import moderation, senders, services
from messaging.models import (
    AdvertisingRequest,
    CampaignModeration,
    Message,
    ModerationTemplate,
    SenderName,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _russian():
    """The wording checked here is the Russian one, whatever ran before."""
    from django.utils import translation

    with translation.override("ru"):
        yield


@pytest.fixture
def new_user(make_user):
    return make_user("new@example.com", trusted=False)


@pytest.fixture
def staff(make_user):
    """A staff member (not a superuser) allowed to moderate messaging."""
    from django.contrib.auth.models import Permission

    member = make_user("moderator@example.com")
    member.is_staff = True
    member.save(update_fields=["is_staff"])
    member.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="messaging",
            codename__in=[
                "view_sendername",
                "change_sendername",
                "view_moderationtemplate",
                "change_moderationtemplate",
                "view_campaignmoderation",
                "change_campaignmoderation",
            ],
        )
    )
    return member


def _campaign(account, text="Привет"):
    return services.campaign_launch(
        account=account, channel="sms", text=text, phones=["+79161234567"]
    )


def _items(new_user):
    """One pending item of each kind, all of ``new_user``'s account."""
    account = new_user.account
    return {
        "sender": senders.sender_request(account=account, name="MyShop"),
        "template": moderation.template_create(
            account=account, text="Ваш код: [любая фраза]"
        ),
        "campaign": _campaign(account).moderation,
    }


@pytest.fixture
def received():
    got = []

    def receiver(sender, item, approved, staff_user, **kwargs):
        got.append((sender, item.pk, approved, staff_user))

    decisions.decided.connect(receiver)
    yield got
    decisions.decided.disconnect(receiver)


# --- the queues ---------------------------------------------------------------------


def test_messaging_registers_a_queue_per_kind():
    by_key = {q.key: q for q in decisions.queues()}
    assert {
        "messaging.sendername",
        "messaging.campaignmoderation",
        "messaging.moderationtemplate",
        "messaging.advertisingrequest",
    } <= set(by_key)
    assert by_key["messaging.sendername"].model is SenderName
    assert (
        by_key["messaging.campaignmoderation"].url()
        == "/admin/messaging/campaignmoderation/?status__exact=pending"
    )
    assert decisions.queue_for(ModerationTemplate).label == "Шаблоны модерации"


def test_a_queue_holds_what_waits_for_staff(new_user, other_user):
    items = _items(new_user)
    foreign = senders.sender_request(account=other_user.account, name="Theirs")
    AdvertisingRequest.objects.create(
        account=new_user.account, text="t", targeting="t", cities="Омск", volume=1
    )
    queues = {q.key: q for q in decisions.queues()}
    assert set(queues["messaging.sendername"].pending()) == {items["sender"], foreign}
    assert list(queues["messaging.campaignmoderation"].pending()) == [items["campaign"]]
    assert queues["messaging.advertisingrequest"].count() == 1
    senders.sender_decide(sender_name=items["sender"], approve=True)
    assert list(queues["messaging.sendername"].pending()) == [foreign]


def test_a_queue_cannot_be_registered_twice_or_after_start_up(monkeypatch):
    from django.apps import apps

    with pytest.raises(ImproperlyConfigured, match="after start-up"):
        decisions.register_queue(model=Message, label="late", pending=list)
    monkeypatch.setattr(decisions, "_queues", dict(decisions._queues))
    monkeypatch.setattr(apps, "ready", False)
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        decisions.register_queue(model=SenderName, label="again")
    with pytest.raises(ImproperlyConfigured, match="one per model"):
        decisions.register_queue(model=SenderName, label="again", key="senders2")
    with pytest.raises(ImproperlyConfigured, match="pending queryset"):
        decisions.register_queue(model=Message, label="messages")


def test_a_model_without_a_queue_cannot_be_decided(monkeypatch, user):
    row = senders.sender_request(account=user.account, name="Shop")
    monkeypatch.setattr(
        decisions,
        "_queues",
        {k: q for k, q in decisions._queues.items() if q.model is not SenderName},
    )
    with pytest.raises(ImproperlyConfigured, match="no moderation queue"):
        decisions.decide(item=row, approve=True)
    row.refresh_from_db()
    assert row.status == "pending"


def test_a_campaign_created_for_moderation_opens_its_decision(new_user, user):
    campaign = _campaign(new_user.account)
    row = CampaignModeration.objects.get(campaign=campaign)
    assert row.status == "pending" and row.account_id == new_user.account_id
    # a trusted account's campaign goes straight out: no decision
    assert not CampaignModeration.objects.filter(
        campaign=_campaign(user.account, "Ваш заказ готов")
    ).exists()


# --- one service for every kind -----------------------------------------------------


@pytest.mark.parametrize("kind", ["sender", "template", "campaign"])
def test_each_kind_is_approved_through_the_one_service(kind, new_user, staff, received):
    item = _items(new_user)[kind]
    result = decisions.decide(item=item, approve=True, staff_user=staff)
    assert result.changed
    item.refresh_from_db()
    assert item.status == "approved"
    assert item.decided_by == staff and item.decided_at is not None
    assert item.reason == item.reason_text == ""
    note = Notification.objects.get(account=new_user.account)
    assert ("одобрен" in note.title) or ("прошла модерацию" in note.title)
    assert received == [(type(item), item.pk, True, staff)]


@pytest.mark.parametrize(
    "kind,reason,wording",
    [
        ("sender", {"reason": "brand"}, "аббревиатуры"),
        ("template", {"reason_text": "Реклама казино"}, "Реклама казино"),
        ("campaign", {"reason_text": "Спам"}, "Спам"),
    ],
)
def test_each_kind_is_rejected_with_a_reason_in_its_own_words(
    kind, reason, wording, new_user, staff, received
):
    item = _items(new_user)[kind]
    decisions.decide(item=item, approve=False, staff_user=staff, **reason)
    item.refresh_from_db()
    assert item.status == "rejected" and wording in item.reason_display
    note = Notification.objects.get(account=new_user.account)
    assert wording in note.body
    title = {
        "sender": "Имя отправителя «MyShop» отклонено",
        "template": "Шаблон модерации отклонён",
        "campaign": f"Рассылка #{getattr(item, 'campaign_id', 0)} отклонена",
    }[kind]
    assert note.title.startswith(title)
    assert received == [(type(item), item.pk, False, staff)]


@pytest.mark.parametrize("kind", ["sender", "template", "campaign"])
def test_deciding_twice_changes_nothing(kind, new_user, staff, received):
    item = _items(new_user)[kind]
    decisions.decide(item=item, approve=False, staff_user=staff, reason_text="Нет")
    item.refresh_from_db()
    before = (item.status, item.reason_text, item.decided_at)
    again = decisions.decide(item=item, approve=True, staff_user=staff)
    assert not again.changed
    item.refresh_from_db()
    assert (item.status, item.reason_text, item.decided_at) == before
    assert Notification.objects.filter(account=new_user.account).count() == 1
    assert len(received) == 1


@pytest.mark.parametrize("kind", ["sender", "template", "campaign"])
def test_a_rejection_needs_a_reason(kind, new_user):
    item = _items(new_user)[kind]
    with pytest.raises(decisions.DecisionError) as exc:
        decisions.decide(item=item, approve=False, reason_text="  ")
    assert exc.value.message == "Укажите причину отказа."
    item.refresh_from_db()
    assert item.status == "pending"
    assert not Notification.objects.exists()


def test_reason_codes_are_the_items_own(new_user):
    items = _items(new_user)
    with pytest.raises(decisions.DecisionError, match="Неизвестная причина"):
        decisions.decide(item=items["sender"], approve=False, reason="spam")
    # templates have no codes: a text only
    with pytest.raises(decisions.DecisionError, match="Неизвестная причина"):
        decisions.decide(item=items["template"], approve=False, reason="brand")
    # "other" says what in the text
    with pytest.raises(decisions.DecisionError, match="Опишите"):
        decisions.decide(item=items["sender"], approve=False, reason="other")
    decisions.decide(
        item=items["sender"], approve=False, reason="other", reason_text="Занято"
    )
    items["sender"].refresh_from_db()
    assert items["sender"].reason_display == "Занято"
    assert SenderName.objects.filter(status="pending").count() == 0


def test_only_staff_decide(new_user, make_user):
    item = _items(new_user)["sender"]
    client_user = make_user("client@example.com")
    with pytest.raises(decisions.DecisionError, match="только сотрудник"):
        decisions.decide(item=item, approve=True, staff_user=client_user)
    item.refresh_from_db()
    assert item.status == "pending"


def test_the_signal_waits_for_the_commit(new_user, received):
    from django.db import transaction

    item = _items(new_user)["template"]
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            decisions.decide(item=item, approve=True)
            assert received == []
            raise RuntimeError("rolled back")
    item.refresh_from_db()
    assert item.status == "pending" and received == []


# --- campaigns: the engine effect of a decision -------------------------------------


def test_an_approved_campaign_goes_out(new_user, staff):
    campaign = _campaign(new_user.account)
    messaging_decisions.campaign_decide(
        campaign=campaign, approve=True, staff_user=staff
    )
    campaign.refresh_from_db()
    assert campaign.status in ("running", "done")
    assert campaign.moderation_note == "Успешно"
    assert not campaign.messages.filter(status="moderation").exists()


def test_a_rejected_campaign_is_cancelled_and_refunded(new_user, staff):
    before = Account.objects.get(pk=new_user.account_id).balance
    campaign = _campaign(new_user.account)
    assert Account.objects.get(pk=new_user.account_id).balance < before
    messaging_decisions.campaign_decide(
        campaign=campaign, approve=False, reason_text="Спам", staff_user=staff
    )
    campaign.refresh_from_db()
    assert campaign.status == "rejected" and campaign.moderation_note == "Спам"
    assert set(campaign.messages.values_list("status", flat=True)) == {"cancelled"}
    assert Account.objects.get(pk=new_user.account_id).balance == before


def test_a_campaign_the_client_cancelled_cannot_be_decided(new_user, staff):
    campaign = _campaign(new_user.account)
    services.campaign_cancel(campaign=campaign)
    balance = Account.objects.get(pk=new_user.account_id).balance
    with pytest.raises(decisions.DecisionError, match="уже не на модерации"):
        messaging_decisions.campaign_decide(
            campaign=campaign, approve=True, staff_user=staff
        )
    row = CampaignModeration.objects.get(campaign=campaign)
    assert row.status == "pending" and row.decided_at is None
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"
    assert Account.objects.get(pk=new_user.account_id).balance == balance
    # and it waits for nobody
    assert not messaging_decisions.campaigns_waiting().exists()


def test_a_campaign_that_never_went_to_moderation_cannot_be_decided(user):
    campaign = _campaign(user.account, "Ваш заказ готов")
    with pytest.raises(decisions.DecisionError, match="не на модерации"):
        services.campaign_moderate(campaign=campaign, approve=False, reason="x")
    assert not CampaignModeration.objects.exists()


# --- the one admin behaviour --------------------------------------------------------

ADMIN = {
    "sender": "/admin/messaging/sendername/",
    "template": "/admin/messaging/moderationtemplate/",
    "campaign": "/admin/messaging/campaignmoderation/",
}


@pytest.mark.parametrize("kind", ["sender", "template", "campaign"])
def test_the_admin_filters_by_status_and_shows_decisions_read_only(
    kind, client, new_user, staff
):
    item = _items(new_user)[kind]
    client.force_login(staff)
    page = client.get(ADMIN[kind] + "?status__exact=pending").content.decode()
    assert "?status__exact=rejected" in page  # the status filter
    assert f"/{item.pk}/change/" in page
    assert (
        f"/{item.pk}/change/"
        not in client.get(ADMIN[kind] + "?status__exact=approved").content.decode()
    )
    change = client.get(f"{ADMIN[kind]}{item.pk}/change/")
    assert change.status_code == 200
    form = change.context["adminform"].form
    for field in ("status", "reason", "reason_text", "comment", "decided_by"):
        assert field not in form.fields  # read-only, never posted
    assert f"{item.pk}/approve/" in change.content.decode()
    # nothing is added by hand
    assert client.get(f"{ADMIN[kind]}add/").status_code == 403


@pytest.mark.parametrize("kind", ["sender", "template", "campaign"])
def test_the_admin_approve_action(kind, client, new_user, staff):
    item = _items(new_user)[kind]
    client.force_login(staff)
    resp = client.post(
        ADMIN[kind], {"action": "approve", "_selected_action": [item.pk]}
    )
    assert resp.status_code == 302
    item.refresh_from_db()
    assert item.status == "approved" and item.decided_by == staff


@pytest.mark.parametrize(
    "kind,reason",
    [
        ("sender", {"reason": "offensive"}),
        ("template", {"reason_text": "Реклама"}),
        ("campaign", {"reason_text": "Спам"}),
    ],
)
def test_the_admin_reject_action_asks_the_reason(kind, reason, client, new_user, staff):
    item = _items(new_user)[kind]
    client.force_login(staff)
    ask = client.post(ADMIN[kind], {"action": "reject", "_selected_action": [item.pk]})
    assert ask.status_code == 200 and 'name="reason_text"' in ask.content.decode()
    # without a reason: the page again, with the error, nothing decided
    again = client.post(
        ADMIN[kind],
        {"action": "reject", "_selected_action": [item.pk], "apply": "1"},
    )
    assert again.status_code == 200 and "errorlist" in again.content.decode()
    item.refresh_from_db()
    assert item.status == "pending"
    done = client.post(
        ADMIN[kind],
        {
            "action": "reject",
            "_selected_action": [item.pk],
            "apply": "1",
            "comment": "Пишите в поддержку",
            **reason,
        },
    )
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == "rejected" and item.comment == "Пишите в поддержку"
    assert item.reason == reason.get("reason", "")


@pytest.mark.parametrize("kind", ["sender", "template", "campaign"])
def test_one_item_is_decided_from_its_page(kind, client, new_user, staff):
    items = _items(new_user)
    item = items[kind]
    client.force_login(staff)
    confirm = client.get(f"{ADMIN[kind]}{item.pk}/reject/")
    assert confirm.status_code == 200
    item.refresh_from_db()
    assert item.status == "pending"  # a GET decides nothing
    reason = {"reason": "no_meaning"} if kind == "sender" else {"reason_text": "Нет"}
    resp = client.post(f"{ADMIN[kind]}{item.pk}/reject/", reason)
    assert resp.status_code == 302
    item.refresh_from_db()
    assert item.status == "rejected"
    # decided: the page no longer offers a decision, a repeat changes nothing
    page = client.get(f"{ADMIN[kind]}{item.pk}/change/").content.decode()
    assert f"{item.pk}/approve/" not in page
    client.post(f"{ADMIN[kind]}{item.pk}/approve/")
    item.refresh_from_db()
    assert item.status == "rejected"


def test_the_admin_says_why_a_campaign_cannot_be_decided(client, new_user, staff):
    campaign = _campaign(new_user.account)
    services.campaign_cancel(campaign=campaign)
    client.force_login(staff)
    resp = client.post(
        ADMIN["campaign"],
        {"action": "approve", "_selected_action": [campaign.moderation.pk]},
        follow=True,
    )
    assert "уже не на модерации" in resp.content.decode()
    assert CampaignModeration.objects.get().status == "pending"


def test_the_moderation_admin_is_for_staff_only(client, new_user, user):
    item = _items(new_user)["sender"]
    client.force_login(user)  # a client, not staff
    for url in (ADMIN["sender"], f"{ADMIN['sender']}{item.pk}/approve/"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/admin/login/" in resp["Location"]
    client.post(ADMIN["sender"], {"action": "approve", "_selected_action": [item.pk]})
    client.post(f"{ADMIN['sender']}{item.pk}/approve/")
    item.refresh_from_db()
    assert item.status == "pending"


def test_staff_without_the_right_cannot_decide(client, new_user, make_user):
    from django.contrib.auth.models import Permission

    viewer = make_user("viewer@example.com")
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    viewer.user_permissions.set(Permission.objects.filter(codename="view_sendername"))
    item = _items(new_user)["sender"]
    client.force_login(viewer)
    assert client.get(ADMIN["sender"]).status_code == 200
    assert client.get(f"{ADMIN['sender']}{item.pk}/approve/").status_code == 403
    client.post(ADMIN["sender"], {"action": "approve", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == "pending"


def test_the_admin_index_lists_the_queues(client, new_user, staff):
    _items(new_user)
    client.force_login(staff)
    page = client.get("/admin/").content.decode()
    assert "Ждут решения сотрудника" in page
    assert '<a href="/admin/messaging/campaignmoderation/?status__exact=pending">' in (
        page
    )
    # SMS-advertising applications: this staff member may not see them
    assert (
        "Заявки на SMS-рекламу"
        not in page.split("Ждут решения")[1].split("</table>")[0]
    )


# --- tenancy ------------------------------------------------------------------------


def test_a_decision_reaches_only_its_own_account(new_user, other_user):
    mine = senders.sender_request(account=new_user.account, name="Same")
    theirs = senders.sender_request(account=other_user.account, name="Same")
    senders.sender_decide(sender_name=mine, approve=False, reason="brand")
    theirs.refresh_from_db()
    assert theirs.status == "pending"
    assert not Notification.objects.filter(account=other_user.account).exists()
    assert Notification.objects.filter(account=new_user.account).count() == 1


def test_a_clients_pages_show_only_their_own_decisions(
    client_for, new_user, other_user
):
    senders.sender_decide(
        sender_name=senders.sender_request(account=other_user.account, name="Theirs"),
        approve=False,
        reason="other",
        reason_text="Чужая причина",
    )
    moderation.template_decide(
        template=moderation.template_create(
            account=other_user.account, text="Чужой [любая фраза]"
        ),
        approve=False,
        reason_text="Чужой отказ",
    )
    client = client_for(new_user)
    for url in ("/sms/senders/", "/sms/moderation-templates/"):
        page = client.get(url).content.decode()
        assert "Чуж" not in page and "Theirs" not in page


def test_a_rejected_templates_reason_is_on_the_clients_page(client_for, user):
    row = moderation.template_create(account=user.account, text="Акция [любая фраза]")
    moderation.template_decide(template=row, approve=False, reason_text="Реклама")
    page = client_for(user).get("/sms/moderation-templates/").content.decode()
    assert "Реклама" in page and "Отклонено" in page


def test_the_campaign_decision_keeps_its_account(new_user):
    campaign = _campaign(new_user.account)
    assert campaign.moderation.account_id == campaign.account_id
    assert Message.objects.filter(campaign=campaign).count() == 1
    assert campaign.cost > Decimal("0")


@pytest.mark.django_db(transaction=True)
def test_two_staff_deciding_at_once_decide_once(make_user, monkeypatch):
    import threading
    import time

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs real row locks from concurrent connections (PostgreSQL)")
    client_user = make_user("race@example.com")
    row = senders.sender_request(account=client_user.account, name="Race")
    real_notify = decisions.notify

    def slow_notify(**kwargs):
        # Hold the decision open so the other thread arrives meanwhile.
        note = real_notify(**kwargs)
        time.sleep(0.3)
        return note

    monkeypatch.setattr(decisions, "notify", slow_notify)
    start = threading.Barrier(2)
    results, errors = [], []

    def worker(approve: bool):
        try:
            start.wait()
            result = decisions.decide(
                item=SenderName.objects.get(pk=row.pk),
                approve=approve,
                reason="brand",
            )
            results.append((approve, result.changed))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(a,)) for a in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    winners = [approve for approve, changed in results if changed]
    assert len(winners) == 1 and len(results) == 2
    row.refresh_from_db()
    assert row.status == ("approved" if winners[0] else "rejected")
    assert Notification.objects.filter(account=client_user.account).count() == 1
