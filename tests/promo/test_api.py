from datetime import timedelta

import pytest
from django.utils import timezone

from promo.models import PromoAction, PromoCode

pytestmark = pytest.mark.django_db


def test_it_creates_and_lists_actions(user, api_client_for):
    api = api_client_for(user)
    response = api.post(
        "/api/v1/promo/actions/",
        {
            "name": "Скидка",
            "code_length": 7,
            "valid_days": 10,
            "instruction": "Выдайте подарок",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code_length"] == 7 and body["starts_at"] is None
    assert body["stats"]["sent"] == 0
    listing = api.get("/api/v1/promo/actions/").json()
    assert set(listing) == {"next", "previous", "results"}
    assert [a["id"] for a in listing["results"]] == [body["id"]]
    detail = api.get(f"/api/v1/promo/actions/{body['id']}/").json()
    assert detail["name"] == "Скидка"


def test_actions_are_listed_by_cursor_pages_with_their_stats(user, api_client_for):
    api = api_client_for(user)
    made = [
        api.post(
            "/api/v1/promo/actions/", {"name": f"Акция {i}"}, format="json"
        ).json()["id"]
        for i in range(3)
    ]
    first = api.get("/api/v1/promo/actions/?limit=2").json()
    assert [a["id"] for a in first["results"]] == [made[2], made[1]]
    assert first["results"][0]["stats"]["sent"] == 0 and first["previous"] is None
    second = api.get(first["next"]).json()
    assert [a["id"] for a in second["results"]] == [made[0]]
    assert second["next"] is None and second["previous"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "X", "code_length": 3}, "code_length"),
        ({"name": "X", "code_length": 16}, "code_length"),
        ({"name": "", "code_length": 6}, "name"),
        ({"name": "X", "valid_days": 0}, "valid_days"),
        ({"name": "X", "reminders_enabled": True}, "reminder_text"),
    ],
)
def test_it_refuses_bad_actions(user, api_client_for, payload, field):
    response = api_client_for(user).post(
        "/api/v1/promo/actions/", payload, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not PromoAction.objects.exists()


def test_a_foreign_action_is_404_and_invisible(action, other_user, api_client_for):
    api = api_client_for(other_user)
    response = api.get(f"/api/v1/promo/actions/{action.pk}/")
    assert (
        response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    )
    assert api.get("/api/v1/promo/actions/").json()["results"] == []


def test_check_and_redeem(action, issue_codes, user, api_client_for):
    (code,) = issue_codes(action)
    api = api_client_for(user)
    check = api.post("/api/v1/promo/check/", {"code": code}, format="json").json()
    assert check["status"] == "valid" and check["used_at"] is None
    assert check["instruction"] == "Выдайте скидку 10% на весь чек."
    redeem = api.post("/api/v1/promo/redeem/", {"code": code}, format="json")
    assert redeem.status_code == 200
    assert redeem.json()["status"] == "used" and redeem.json()["redeemed"] is True
    again = api.post("/api/v1/promo/redeem/", {"code": code}, format="json")
    assert again.status_code == 409
    assert again.json()["status"] == "used" and again.json()["error"]["code"] == "used"
    assert again.json()["used_at"] == redeem.json()["used_at"]
    check = api.post("/api/v1/promo/check/", {"code": code}, format="json").json()
    assert check["status"] == "used" and check["used_by"] == "API"


def test_expired_and_unknown_codes(action, issue_codes, user, api_client_for):
    (code,) = issue_codes(action)
    PromoCode.objects.update(issued_at=timezone.now() - timedelta(days=31))
    api = api_client_for(user)
    assert (
        api.post("/api/v1/promo/check/", {"code": code}, format="json").json()["status"]
        == "expired"
    )
    refused = api.post("/api/v1/promo/redeem/", {"code": code}, format="json")
    assert refused.status_code == 409 and refused.json()["status"] == "expired"
    unknown = api.post("/api/v1/promo/redeem/", {"code": "ZZZZZZ"}, format="json")
    assert unknown.status_code == 404 and unknown.json()["status"] == "unknown"
    bad = api.post("/api/v1/promo/check/", {}, format="json")
    assert bad.status_code == 400 and "code" in bad.json()["error"]["fields"]


def test_another_accounts_code_is_unknown_through_the_api(
    action, issue_codes, other_user, api_client_for
):
    (code,) = issue_codes(action)
    api = api_client_for(other_user)
    assert (
        api.post("/api/v1/promo/check/", {"code": code}, format="json").json()["status"]
        == "unknown"
    )
    assert (
        api.post("/api/v1/promo/redeem/", {"code": code}, format="json").status_code
        == 404
    )
    assert PromoCode.objects.get(code=code).used_at is None


def test_the_api_throttles_guessing(user, api_client_for, settings):
    api = api_client_for(user)
    for i in range(settings.PROMO_CHECK_FAILURES_PER_ACCOUNT):
        assert (
            api.post(
                "/api/v1/promo/check/", {"code": f"NOPE{i:02d}"}, format="json"
            ).status_code
            == 200
        )
    response = api.post("/api/v1/promo/check/", {"code": "NOPE99"}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert "Retry-After" in response


def test_the_schema_documents_promo(user, api_client_for):
    schema = api_client_for(user).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/v1/promo/actions/",
        "/api/v1/promo/check/",
        "/api/v1/promo/redeem/",
    ):
        assert path in text
