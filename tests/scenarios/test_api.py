"""Scenarios through REST v1 and the JSON API v1.0 ``schemeId``."""

from decimal import Decimal

import pytest

from messaging.models import GatewaySubmission, Message
from scenarios.models import Run, Scenario

from .conftest import VIBER_SMS

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, user):
    from cabinet.services import token_create

    created = token_create(account=user.account, scopes=["messaging"])
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {created.key}"
    return client


def test_create_list_read_launch_and_status(api, user):
    r = api.post(
        "/api/v1/scenarios/",
        {"name": "Viber → SMS", "steps": VIBER_SMS},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    assert [s["channel"] for s in r.json()["steps"]] == ["viber", "sms"]
    assert api.get("/api/v1/scenarios/").json()["results"][0]["id"] == sid
    assert api.get(f"/api/v1/scenarios/{sid}/").json()["name"] == "Viber → SMS"
    quote = api.post(
        f"/api/v1/scenarios/{sid}/launch/",
        {"phones": ["+79161234444"], "validate": True},
        content_type="application/json",
    )
    assert quote.status_code == 200
    assert Decimal(str(quote.json()["worst_cost"])) > 0
    assert not Run.objects.exists()
    r = api.post(
        f"/api/v1/scenarios/{sid}/launch/",
        {"phones": ["+79161234444", "+79161230005"], "client_id": "a1"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    run = r.json()
    status = api.get(f"/api/v1/scenarios/runs/{run['id']}/").json()
    assert status["status"] == "done"
    assert status["delivered"] == 2
    assert [s["sent"] for s in status["steps"]] == [2, 1]
    # The same client_id: the same run, nothing sent twice.
    again = api.post(
        f"/api/v1/scenarios/{sid}/launch/",
        {"phones": ["+79161234444", "+79161230005"], "client_id": "a1"},
        content_type="application/json",
    )
    assert again.json()["id"] == run["id"]
    assert GatewaySubmission.objects.count() == 3


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "steps": []}, "steps"),
        ({"name": "x", "steps": [{"channel": "sms", "text": "a", "decision": 5}]}, ""),
        ({"name": "", "steps": VIBER_SMS}, "name"),
        ({"name": "x", "steps": "viber"}, "steps"),
    ],
)
def test_bad_scenarios_are_refused(api, body, field):
    r = api.post("/api/v1/scenarios/", body, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["error"]["message"]
    assert not Scenario.objects.exists()


def test_foreign_and_deleted_scenarios_are_404(api, make_user, viber_sms):
    other = make_user("x@example.com")
    from scenarios.services import run_launch, scenario_save

    theirs = scenario_save(account=other.account, name="их", steps=VIBER_SMS)
    run = run_launch(account=other.account, scenario=theirs, phones=["+79161234444"])
    assert api.get(f"/api/v1/scenarios/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/v1/scenarios/runs/{run.pk}/").status_code == 404
    r = api.post(
        f"/api/v1/scenarios/{theirs.pk}/launch/",
        {"phones": ["+79161234444"]},
        content_type="application/json",
    )
    assert r.status_code == 404
    pk = viber_sms.pk
    viber_sms.delete()
    assert api.get(f"/api/v1/scenarios/{pk}/").status_code == 404
    assert Run.objects.count() == 1


def test_a_launch_that_cannot_be_paid_is_402_and_sends_nothing(api, user, viber_sms):
    type(user.account).objects.filter(pk=user.account_id).update(balance=0)
    r = api.post(
        f"/api/v1/scenarios/{viber_sms.pk}/launch/",
        {"phones": ["+79161234444"]},
        content_type="application/json",
    )
    assert r.status_code == 402
    assert "Недостаточно средств" in r.json()["error"]["message"]
    assert not Run.objects.exists() and not Message.objects.exists()


def test_json_api_scheme_id_runs_the_scenario(user, viber_sms):
    from django.test import Client

    from cabinet.services import token_create

    key = token_create(account=user.account, scopes=["messaging"]).key
    client = Client()

    def send(body):
        return client.post(
            "/json/v1.0/sms/send/text",
            body,
            content_type="application/json",
            HTTP_X_TOKEN=key,
        ).json()

    body = {
        "schemeId": viber_sms.pk,
        "messages": [
            {"recipient": "79161230005", "id": "m1", "text": "Ваш заказ готов"},
            {"recipient": "79161234444", "id": "m2", "text": "Ваш заказ готов"},
            {"recipient": "12", "id": "m3", "text": "x"},
        ],
    }
    answer = send(body)
    assert answer["success"] is True
    assert [m["success"] for m in answer["result"]["messages"]] == [True, True, False]
    run = Run.objects.get()
    assert answer["result"]["runId"] == run.pk
    assert run.source == "compat"
    # Each recipient's own text went in every step.
    assert set(GatewaySubmission.objects.values_list("text", flat=True)) == {
        "Ваш заказ готов"
    }
    assert GatewaySubmission.objects.count() == 3
    # The same ids again: the same run, nothing sent twice.
    assert send(body)["result"]["runId"] == run.pk
    assert GatewaySubmission.objects.count() == 3
    status = client.post(
        "/json/v1.0/sms/status",
        ["m1"],
        content_type="application/json",
        HTTP_X_TOKEN=key,
    ).json()
    assert status["result"][0]["status"] == "delivered"
    # A foreign or unknown scenario: an error, nothing sent.
    bad = send({**body, "schemeId": 999999})
    assert bad["success"] is False and bad["error"]["code"] == 404
