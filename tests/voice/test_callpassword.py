"""CallPassword (section 11): the JSON API v1.0 and REST v1 — a call from a
pool number whose last four digits are the code, validate without a call or a
charge, a repeated id answered from the first result, bad and stop-listed
numbers, rate limits, short funds — and its cabinet page."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from billing.selectors import ledger_sum
from cabinet.models import Account
from cabinet.services import token_create
from contacts.models import StopNumber
from messaging.models import GatewaySubmission, Message
from messaging.models import MessageStatus as S
from voice.models import CallPassword, VoiceNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def compat(user):
    key = token_create(account=user.account, scopes=["messaging"]).key
    client = Client()

    def post(data):
        resp = client.post(
            "/json/v1.0/callpassword/send",
            data=json.dumps(data),
            content_type="application/json",
            HTTP_X_TOKEN=key,
        )
        assert resp.status_code == 200  # the protocol's errors are HTTP 200 too
        return resp.json()

    return post


def balance(user):
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == ledger_sum(account_id=account.pk)
    return account.balance


def test_a_call_carries_the_code_and_is_charged_once(user, compat):
    body = compat({"recipient": "8 (916) 123-45-67", "id": "login-42"})
    assert body["success"] is True
    result = body["result"]
    assert result["id"] == "login-42"
    assert len(result["code"]) == 4 and result["code"].isdigit()
    row = CallPassword.objects.get(account=user.account)
    assert row.caller.endswith(result["code"])
    assert VoiceNumber.objects.filter(
        number=row.caller, purpose="callpassword"
    ).exists()
    assert row.phone == "+79161234567"
    message = Message.objects.get(pk=row.message_id)
    assert message.channel == "callpassword" and message.status == S.SUCCESS
    assert message.sender == row.caller
    submitted = GatewaySubmission.objects.get(message_id=message.pk)
    assert submitted.content == {"code": result["code"]}
    assert balance(user) == Decimal("1000") - Decimal("0.45")
    # The same id again: the first answer, no second call, no second charge.
    again = compat({"recipient": "79161234567", "id": "login-42"})
    assert again["result"] == result
    assert GatewaySubmission.objects.filter(channel="callpassword").count() == 1
    assert balance(user) == Decimal("999.55")


def test_validate_places_no_call_and_charges_nothing(user, compat):
    body = compat({"recipient": "79161234567", "validate": True})
    assert body["success"] is True
    assert body["result"]["validate"] is True and body["result"]["price"] == 0.45
    assert not CallPassword.objects.exists() and not Message.objects.exists()
    assert balance(user) == Decimal("1000")


@pytest.mark.parametrize(
    "data, code",
    [
        ({"recipient": "12345"}, 1001),
        ({"recipient": ""}, 1001),
        ({}, 1001),
        ({"recipient": "79161234567", "validate": "maybe"}, 400),
        ({"recipient": "79161234567", "id": {"a": 1}}, 400),
    ],
)
def test_bad_input_is_a_clear_error_and_charges_nothing(user, compat, data, code):
    body = compat(data)
    assert body["success"] is False
    assert body["error"]["code"] == code and body["error"]["descr"]
    assert balance(user) == Decimal("1000") and not Message.objects.exists()


def test_a_stop_listed_number_is_refused(user, compat):
    StopNumber.objects.create(account=user.account, phone="+79161234567")
    for data in (
        {"recipient": "79161234567"},
        {"recipient": "79161234567", "validate": True},
    ):
        body = compat(data)
        assert body["success"] is False and body["error"]["code"] == 1004
    assert balance(user) == Decimal("1000") and not CallPassword.objects.exists()


def test_calls_to_one_number_are_limited(user, compat, settings):
    settings.CALLPASSWORD_PER_NUMBER = 2
    assert compat({"recipient": "79161234567"})["success"]
    assert compat({"recipient": "79161234567"})["success"]
    body = compat({"recipient": "79161234567"})
    assert body["success"] is False and body["error"]["code"] == 429
    assert "повторите позже" in body["error"]["descr"]
    assert compat({"recipient": "79161234568"})["success"]  # another number


def test_short_funds_are_refused(make_user, compat_client_for):
    poor = make_user(balance=Decimal("0"))
    body = compat_client_for(poor)({"recipient": "79161234567"})
    assert body["success"] is False and body["error"]["code"] == 402
    assert not CallPassword.objects.exists()


@pytest.fixture
def compat_client_for():
    def make(user):
        key = token_create(account=user.account, scopes=["messaging"]).key
        client = Client()

        def post(data):
            return client.post(
                "/json/v1.0/callpassword/send",
                data=json.dumps(data),
                content_type="application/json",
                HTTP_X_TOKEN=key,
            ).json()

        return post

    return make


def test_rest_send_and_status(user, api_client_for, other_user):
    api = api_client_for(user)
    resp = api.post(
        "/api/v1/callpassword/", {"recipient": "+79161234567"}, format="json"
    )
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["price"] == "0.45" and len(data["code"]) == 4
    status = api.get(f"/api/v1/callpassword/{data['request_id']}/").json()
    assert status["code"] == data["code"] and status["expired"] is False
    assert status["status"] == S.SUCCESS
    # Another account's request is a 404.
    stranger = api_client_for(other_user)
    assert (
        stranger.get(f"/api/v1/callpassword/{data['request_id']}/").status_code == 404
    )
    bad = api.post("/api/v1/callpassword/", {"recipient": "abc"}, format="json")
    assert bad.status_code == 400
    dry = api.post(
        "/api/v1/callpassword/",
        {"recipient": "+79161234567", "validate": True},
        format="json",
    )
    assert dry.status_code == 200 and dry.json()["validate"] is True


def test_the_page_shows_price_history_and_places_a_test_call(user, client):
    client.force_login(user)
    page = client.get("/voice/callpassword/")
    assert page.status_code == 200
    assert "0,45" in page.content.decode()
    resp = client.post("/voice/callpassword/", {"phone": "79161234567"}, follow=True)
    html = resp.content.decode()
    row = CallPassword.objects.get()
    assert row.code in html and "+79161234567" in html
    assert "Успешный вызов" in html
    bad = client.post("/voice/callpassword/", {"phone": "123"})
    assert "Неверный номер" in bad.content.decode()
    # In the reports and in «Оказанные услуги».
    assert 'href="/reports/callpassword/"' in html
    report = client.get("/reports/callpassword/").content.decode()
    assert "CallPassword: код" in report

    import datetime as dt

    from billing.selectors import services_rendered

    today = dt.date.today()
    rows = services_rendered(
        account_id=user.account_id,
        date_from=today - dt.timedelta(days=1),
        date_to=today + dt.timedelta(days=1),
    ).rows
    assert any(r["description"].startswith("CallPassword") for r in rows)
