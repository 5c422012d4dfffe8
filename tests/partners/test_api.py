"""The partnership in the REST API: the overview and withdrawals, scoped to
the token's account, bad input refused with nothing changed."""

from decimal import Decimal

import pytest

from partners.models import Withdrawal
from tests.partners.conftest import charge

pytestmark = pytest.mark.django_db


def test_overview_and_withdrawals(partner_and_client, api_client_for, make_user):
    partner, client = partner_and_client
    charge(client.account_id, "-10000.00")
    api = api_client_for(partner)
    body = api.get("/api/v1/partners/").json()
    assert body["balance"] == "500.00" and body["clients"] == 1
    assert body["link"].endswith(f"/ref/{body['code']}/")
    assert {r["service"] for r in body["rates"]} >= {"sms", "chat"}
    response = api.post(
        "/api/v1/partners/withdrawals/",
        {"amount": "299", "details": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "Минимальная сумма" in response.json()["error"]["message"]
    response = api.post(
        "/api/v1/partners/withdrawals/",
        {"amount": "300", "details": "карта"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["status"] == "pending"
    listed = api.get("/api/v1/partners/withdrawals/").json()
    assert [w["amount"] for w in listed["results"]] == ["300.00"]
    # Another account sees none of it.
    stranger = api_client_for(make_user("stranger@example.com"))
    assert stranger.get("/api/v1/partners/withdrawals/").json()["results"] == []
    assert stranger.get("/api/v1/partners/").json()["balance"] == "0.00"
    response = stranger.post(
        "/api/v1/partners/withdrawals/",
        {"amount": "300", "details": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert Withdrawal.objects.count() == 1
    assert Decimal(api.get("/api/v1/partners/").json()["balance"]) == Decimal("200")


def test_schema_lists_the_partner_endpoints(client):
    body = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    text = body.content.decode()
    assert "/api/v1/partners/withdrawals/" in text
