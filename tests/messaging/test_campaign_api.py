from decimal import Decimal

import pytest

from billing.selectors import ledger_sum
from cabinet.models import Account
from contacts.models import Contact, Group
from messaging.models import Campaign, Message

pytestmark = pytest.mark.django_db


def test_create_read_and_list_messages(user, api_client_for):
    api = api_client_for(user)
    resp = api.post(
        "/api/v1/campaigns/",
        {
            "channel": "sms",
            "text": "Скидка 20%",
            "phones": ["+79161234567", "89031112233"],
            "tags": ["акция"],
            "description": "весна",
            "client_id": "c-1",
            "ttl": 3600,
            "window": {"from": "00:00", "to": "23:59"},
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["recipients"] == 2
    assert body["counters"] == {"delivered": 2}
    assert body["columns"]["Д"] == 2
    assert Decimal(body["cost"]) == sum(Message.objects.values_list("price", flat=True))
    detail = api.get(f"/api/v1/campaigns/{body['id']}/").json()
    assert detail["status"] == "done"
    messages = api.get(f"/api/v1/messages/?campaign={body['id']}").json()["results"]
    assert {m["phone"] for m in messages} == {"+79161234567", "+79031112233"}
    assert all(
        {"text", "status", "parts", "price", "created_at", "sent_at"} <= set(m)
        for m in messages
    )


def test_client_id_replays_return_the_first_campaign(user, api_client_for):
    api = api_client_for(user)
    payload = {"text": "x", "phones": ["+79161234567"], "client_id": "same"}
    first = api.post("/api/v1/campaigns/", payload, format="json")
    again = api.post("/api/v1/campaigns/", payload, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Message.objects.count() == 1


def test_group_campaign_through_the_api(user, api_client_for):
    group = Group.objects.create(account=user.account, name="G")
    Contact.objects.create(account=user.account, group=group, phone="+79161234567")
    api = api_client_for(user)
    resp = api.post(
        "/api/v1/campaigns/", {"text": "x", "group_ids": [group.pk]}, format="json"
    )
    assert resp.status_code == 201
    assert Message.objects.get().phone == "+79161234567"


def test_cancel_a_scheduled_campaign(user, api_client_for):
    api = api_client_for(user)
    resp = api.post(
        "/api/v1/campaigns/",
        {"text": "x", "phones": ["+79161234567"], "send_at": "2099-01-01T10:00:00Z"},
        format="json",
    )
    campaign_id = resp.json()["id"]
    cancelled = api.post(f"/api/v1/campaigns/{campaign_id}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["counters"] == {"cancelled": 1}
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") == ledger_sum(account_id=account.pk)
    again = api.post(f"/api/v1/campaigns/{campaign_id}/cancel/")
    assert again.status_code == 200


@pytest.mark.parametrize(
    "payload,code",
    [
        ({"text": "x"}, "validation_error"),
        ({"text": "x", "phones": ["abc"]}, "no_recipients"),
        ({"text": "x", "phones": ["+79161234567"], "ttl": 50000}, "validation_error"),
        ({"text": "x", "phones": "+79161234567"}, "validation_error"),
        (
            {
                "text": "x",
                "phones": ["+79161234567"],
                "send_at": "2001-01-01T00:00:00Z",
            },
            "validation_error",
        ),
    ],
)
def test_bad_input_changes_nothing(user, api_client_for, payload, code):
    api = api_client_for(user)
    resp = api.post("/api/v1/campaigns/", payload, format="json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == code
    assert not Campaign.objects.exists()


def test_too_many_recipients_is_refused(user, api_client_for):
    api = api_client_for(user)
    phones = [f"+7916{i:07d}" for i in range(100001)]
    resp = api.post(
        "/api/v1/campaigns/", {"text": "x", "phones": phones}, format="json"
    )
    assert resp.status_code == 400
    assert not Campaign.objects.exists()


def test_no_money_is_402(make_user, api_client_for):
    poor = make_user(balance=Decimal("1"))
    resp = api_client_for(poor).post(
        "/api/v1/campaigns/", {"text": "x", "phones": ["+79161234567"]}, format="json"
    )
    assert resp.status_code == 402
    assert resp.json()["error"]["code"] == "insufficient_funds"


def test_another_accounts_campaign_is_404(user, other_user, api_client_for):
    theirs = (
        api_client_for(other_user)
        .post(
            "/api/v1/campaigns/",
            {"text": "x", "phones": ["+79161234567"]},
            format="json",
        )
        .json()["id"]
    )
    group = Group.objects.create(account=other_user.account, name="их")
    api = api_client_for(user)
    assert api.get(f"/api/v1/campaigns/{theirs}/").status_code == 404
    assert api.post(f"/api/v1/campaigns/{theirs}/cancel/").status_code == 404
    assert api.get(f"/api/v1/messages/?campaign={theirs}").status_code == 404
    resp = api.post(
        "/api/v1/campaigns/", {"text": "x", "group_ids": [group.pk]}, format="json"
    )
    assert resp.status_code == 404
    assert Campaign.objects.filter(account=user.account).count() == 0
