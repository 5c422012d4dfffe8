import re

import pytest
from django.contrib.messages import get_messages

from cabinet.models import Notification
from messaging import senders, services
from messaging.models import Campaign, SenderName

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["MyShop", "Shop-24", "A.B_C", "Cafe 7", "X" * 11])
def test_good_names_pass(name):
    assert senders.name_check(name) == name


@pytest.mark.parametrize(
    "name,why",
    [
        ("", "Введите"),
        ("X" * 12, "11 символов"),
        ("Магазин", "латинского"),
        ("Shop€", "латинского"),
        ("12345", "латинскую букву"),
    ],
)
def test_bad_names_are_explained(name, why):
    with pytest.raises(senders.InvalidSenderName) as exc:
        senders.name_check(name)
    assert why in exc.value.message


def test_a_request_waits_then_an_approval_notifies_and_allows_sending(user, admin_user):
    row = senders.sender_request(account=user.account, name="MyShop")
    assert row.status == "pending"
    with pytest.raises(senders.SenderNotAllowed):
        senders.sender_validate(account=user.account, channel="sms", sender="MyShop")
    senders.sender_decide(sender_name=row, approve=True, staff_user=admin_user)
    row.refresh_from_db()
    assert row.status == "approved" and row.decided_by == admin_user
    note = Notification.objects.get(account=user.account)
    assert "одобрено" in note.title and note.kind == "sender"
    assert (
        senders.sender_validate(account=user.account, channel="sms", sender="MyShop")
        == "MyShop"
    )
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="hi",
        sender="MyShop",
        phones=["+79161234567"],
    )
    assert campaign.sender == "MyShop"


def test_a_rejection_keeps_the_reason_in_the_history_and_notifies(user):
    row = senders.sender_request(account=user.account, name="MTS")
    senders.sender_decide(
        sender_name=row, approve=False, reason="brand", comment="Нужны документы"
    )
    row.refresh_from_db()
    assert row.status == "rejected" and row.reason == "brand"
    note = Notification.objects.get(account=user.account)
    assert "отклонено" in note.title and "аббревиатуры" in note.body
    # a decided request is not decided again
    senders.sender_decide(sender_name=row, approve=True)
    row.refresh_from_db()
    assert row.status == "rejected"
    # and the name may be requested again: a new history row
    senders.sender_request(account=user.account, name="MTS")
    assert SenderName.objects.filter(account=user.account, name="MTS").count() == 2


def test_a_rejection_needs_a_reason(user):
    row = senders.sender_request(account=user.account, name="Shop")
    with pytest.raises(ValueError):
        senders.sender_decide(sender_name=row, approve=False)


def test_duplicate_requests_are_refused(user):
    senders.sender_request(account=user.account, name="Shop")
    with pytest.raises(senders.InvalidSenderName):
        senders.sender_request(account=user.account, name="Shop")


def test_the_default_sender_is_always_allowed(user, settings):
    assert (
        senders.sender_validate(account=user.account, channel="sms", sender="")
        == settings.DEFAULT_SENDER_NAME
    )
    assert settings.DEFAULT_SENDER_NAME in senders.sender_choices(
        account_id=user.account_id
    )


def test_another_accounts_name_is_not_allowed(user, other_user):
    SenderName.objects.create(
        account=other_user.account, name="Theirs", status="approved"
    )
    with pytest.raises(services.LaunchError) as exc:
        services.campaign_launch(
            account=user.account,
            channel="sms",
            text="hi",
            sender="Theirs",
            phones=["+79161234567"],
        )
    assert exc.value.field == "sender"
    assert not Campaign.objects.exists()


def test_the_page_requests_lists_and_withdraws(client_for, user):
    client = client_for(user)
    resp = client.post("/sms/senders/", {"name": "MyShop"})
    assert resp.status_code == 302
    row = SenderName.objects.get()
    page = client.get("/sms/senders/").content.decode()
    assert "MyShop" in page and "История запросов" in page and "На рассмотрении" in page
    bad = client.post("/sms/senders/", {"name": "Очень длинное имя"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    assert client.post(f"/sms/senders/{row.pk}/withdraw/").status_code == 302
    assert not SenderName.objects.exists()


def test_a_foreign_request_cannot_be_withdrawn(client_for, user, other_user):
    row = SenderName.objects.create(account=other_user.account, name="Theirs")
    assert client_for(user).post(f"/sms/senders/{row.pk}/withdraw/").status_code == 404
    assert SenderName.objects.filter(pk=row.pk).exists()
    assert "Theirs" not in client_for(user).get("/sms/senders/").content.decode()


def test_staff_reject_in_the_admin_with_a_reason(client, user, admin_user):
    row = senders.sender_request(account=user.account, name="Sber900")
    client.force_login(admin_user)
    url = "/admin/messaging/sendername/"
    page = client.post(url, {"action": "reject", "_selected_action": [row.pk]})
    assert page.status_code == 200
    assert "сервисные номера" in page.content.decode()
    resp = client.post(
        url,
        {
            "action": "reject",
            "_selected_action": [row.pk],
            "apply": "1",
            "reason": "service_number",
            "comment": "",
        },
    )
    assert resp.status_code == 302
    row.refresh_from_db()
    assert row.status == "rejected" and row.reason == "service_number"
    client.post(url, {"action": "approve", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == "rejected"


def test_an_approved_name_does_not_become_the_sender_by_itself(
    client_for, user, settings
):
    SenderName.objects.create(account=user.account, name="AShop", status="approved")
    body = client_for(user).get("/sms/send/").content.decode()
    select = re.search(r'<select name="sender".*?</select>', body, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"( selected)?', select)
    # The browser picks the selected option, or the first one.
    chosen = next((v for v, sel in options if sel), options[0][0])
    assert chosen == settings.DEFAULT_SENDER_NAME
    assert "AShop" in [v for v, _sel in options]  # offered, for the user to pick


def test_the_sender_names_page_says_a_moderator_decides(client_for, user):
    client = client_for(user)
    body = client.get("/sms/senders/").content.decode()
    assert "1-2 минут" not in body and "1–2 минут" not in body
    assert "модератор" in body and "рабочего дня" in body
    response = client.post("/sms/senders/", {"name": "MyShop"})
    flash = [str(m) for m in get_messages(response.wsgi_request)]
    assert flash == [
        "Запрос отправлен модератору. Обычно он отвечает в течение одного "
        "рабочего дня; о решении придёт уведомление."
    ]
