from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from cabinet.models import Account, ApiToken
from cabinet.services import token_revoke
from messaging.models import Message

pytestmark = pytest.mark.django_db


def test_balance(user, api_client_for):
    api = api_client_for(user)
    resp = api.get("/api/v1/balance/")
    assert resp.status_code == 200
    assert resp.json() == {"balance": "1000.00", "currency": "RUB"}


def test_tokens_are_hashed_at_rest(user, api_client_for):
    api = api_client_for(user)
    token = ApiToken.objects.get()
    assert api.token_key not in (token.key_hash, token.prefix)
    assert token.key_hash != api.token_key


def test_missing_and_wrong_tokens_are_refused(user):
    api = APIClient()
    resp = api.get("/api/v1/balance/")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "not_authenticated"
    api.credentials(HTTP_AUTHORIZATION="Token nope")
    assert api.get("/api/v1/balance/").status_code == 401


def test_revoked_token_stops_working(user, api_client_for):
    api = api_client_for(user)
    token_revoke(token=ApiToken.objects.get())
    assert api.get("/api/v1/balance/").status_code == 401


def test_blocked_account_token_stops_working(user, api_client_for):
    api = api_client_for(user)
    Account.objects.filter(pk=user.account_id).update(is_blocked=True)
    assert api.get("/api/v1/balance/").status_code == 401


def test_ip_restricted_token(user, api_client_for):
    api = api_client_for(user)
    ApiToken.objects.update(allowed_ips="192.168.0.0/24")
    assert api.get("/api/v1/balance/", REMOTE_ADDR="10.0.0.1").status_code == 401
    assert api.get("/api/v1/balance/", REMOTE_ADDR="192.168.0.7").status_code == 200


def test_send_sms_through_the_api(user, api_client_for):
    api = api_client_for(user)
    resp = api.post(
        "/api/v1/sms/send/", {"phone": "89161234567", "text": "Код 1234"}, format="json"
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    message = Message.objects.get(pk=body["id"])
    assert message.status == "delivered"
    assert Decimal(body["price"]) == message.price
    balance = api.get("/api/v1/balance/").json()["balance"]
    assert Decimal(balance) == Decimal("1000") - message.price


def test_send_sms_errors_have_one_shape(user, api_client_for):
    api = api_client_for(user)
    resp = api.post("/api/v1/sms/send/", {"phone": "abc", "text": "x"}, format="json")
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "validation_error"
    assert "phone" in err["fields"]
    resp = api.post("/api/v1/sms/send/", "{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "parse_error"
    assert not Message.objects.exists()


def test_send_sms_without_money_is_402(make_user, api_client_for):
    poor = make_user(balance=Decimal("0.5"))
    api = api_client_for(poor)
    resp = api.post(
        "/api/v1/sms/send/", {"phone": "+79161234567", "text": "x"}, format="json"
    )
    assert resp.status_code == 402
    assert resp.json()["error"]["code"] == "insufficient_funds"


def test_schema_and_docs(client):
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
