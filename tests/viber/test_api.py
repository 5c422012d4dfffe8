"""REST v1: Viber campaigns (channel ``viber``, content with an image by
upload id), image uploads and the account's Viber names; documented in the
OpenAPI schema with examples."""

from decimal import Decimal

import pytest

from cabinet.models import Account
from messaging.models import Campaign
from viber.models import ViberImage

from .conftest import picture, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client_for, user):
    return api_client_for(user)


def upload_image(api, data=None, name="sale.png"):
    return api.post(
        "/api/v1/viber/images/",
        {"image": upload(data or picture(600, 600), name)},
        format="multipart",
    )


def test_an_image_uploaded_then_sent_with_text_and_button(api, user):
    uploaded = upload_image(api)
    assert uploaded.status_code == 201, uploaded.json()
    body = uploaded.json()
    assert (body["width"], body["height"], body["content_type"]) == (
        600,
        600,
        "image/png",
    )
    assert body["url"].endswith(f"/viber/images/{body['id']}/")
    response = api.post(
        "/api/v1/campaigns/",
        {
            "channel": "viber",
            "text": "Скидка 20%!",
            "phones": ["+79160003333", "+79160004444"],
            "content": {
                "image": body["id"],
                "button_text": "В магазин",
                "button_url": "https://shop.example.com",
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["channel"] == "viber" and data["content"]["image"] == body["id"]
    assert data["cost"] == "4.60"
    campaign = Campaign.objects.get(pk=data["id"])
    got = dict(campaign.messages.values_list("phone", "status"))
    assert got == {"+79160003333": "clicked", "+79160004444": "viewed"}
    detail = api.get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert detail["columns"]["Пр"] == 2 and detail["columns"]["Кл"] == 1


def test_an_image_only_message_needs_no_text(api):
    image = upload_image(api).json()["id"]
    response = api.post(
        "/api/v1/campaigns/",
        {"channel": "viber", "phones": ["+79161234567"], "content": {"image": image}},
        format="json",
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    "payload,field,says",
    [
        (
            {
                "text": "Hi",
                "content": {"button_text": "X", "button_url": "javascript:x"},
            },
            "button_url",
            "http:// или https://",
        ),
        ({"text": "Hi", "content": {"button_text": "X"}}, "button_url", "ссылку"),
        ({"text": "x" * 1001}, "text", "1000"),
        ({"text": "Hi", "content": {"image": "f" * 32}}, "image", "не найдено"),
        ({"text": "Hi", "content": ["image"]}, "content", ""),
    ],
)
def test_bad_viber_content_is_a_400_in_russian_and_costs_nothing(
    api, user, payload, field, says
):
    response = api.post(
        "/api/v1/campaigns/",
        {"channel": "viber", "phones": ["+79161234567"], **payload},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert says in error["message"] or says in str(error.get("fields"))
    assert field in error.get("fields", {}) or field == error.get("code")
    assert not Campaign.objects.exists()
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1000")


def test_a_viber_send_without_money_is_402(api_client_for, make_user):
    poor = make_user("poor@example.com", balance=Decimal("1"))
    response = api_client_for(poor).post(
        "/api/v1/campaigns/",
        {"channel": "viber", "text": "Hi", "phones": ["+79161234567", "+79161234568"]},
        format="json",
    )
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert not Campaign.objects.exists()


def test_bad_uploads_are_400_with_the_reason(api):
    response = upload_image(api, b"not an image", "x.png")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_image"
    assert "не является изображением" in error["message"]
    assert not ViberImage.objects.exists()


def test_another_accounts_image_is_404(api, api_client_for, other_user):
    theirs = upload_image(api_client_for(other_user)).json()["id"]
    assert api.get(f"/api/v1/viber/images/{theirs}/").status_code == 404
    mine = upload_image(api).json()["id"]
    assert api.get(f"/api/v1/viber/images/{mine}/").status_code == 200


def test_viber_names_through_the_api(api_client_for, rich_user, own_name):
    own_name(rich_user, "ApiShop")
    body = api_client_for(rich_user).get("/api/v1/viber/senders/").json()
    assert body["shared"] == ["SMSinfo", "Akcii", "Servis-Info"]
    assert body["package_price"] == "35000.00"
    assert body["own"][0]["name"] == "ApiShop" and body["own"][0]["status"] == "active"


def test_the_schema_documents_viber_content_with_examples(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    create = schema["components"]["schemas"]["CampaignCreateRequest"]["properties"]
    viber = next(s for s in create["content"]["oneOf"] if s["title"] == "viber content")
    assert set(viber["properties"]) == {"image", "button_text", "button_url"}
    assert "viber" in str(schema["components"]["schemas"]["ChannelEnum"])
    examples = schema["paths"]["/api/v1/campaigns/"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    assert any(e["value"].get("channel") == "viber" for e in examples.values())
    assert "/api/v1/viber/images/" in schema["paths"]
