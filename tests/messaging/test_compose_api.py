import pytest

from messaging.models import MessageTemplate, ModerationTemplate, SenderName
from messaging.sms_text import count_sms

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    ["", "Hello", "Привет", "a" * 161, "€" * 80, "😀" * 40, "[Имя], скидка 10%!"],
)
def test_count_uses_count_sms(api_client_for, user, text):
    resp = api_client_for(user).post(
        "/api/v1/sms/count/", {"text": text}, format="json"
    )
    assert resp.status_code == 200
    expected = count_sms(text)
    assert resp.json() == {
        "encoding": expected.encoding,
        "parts": expected.parts,
        "chars": expected.chars,
        "chars_left": expected.chars_left,
    }


def test_count_needs_a_text_and_a_token(api_client_for, user, client):
    resp = api_client_for(user).post("/api/v1/sms/count/", {}, format="json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "validation_error"
    assert client.post("/api/v1/sms/count/", {"text": "x"}).status_code in (401, 403)


def test_templates_crud(api_client_for, user):
    api = api_client_for(user)
    resp = api.post(
        "/api/v1/sms/templates/",
        {"name": "Акция", "text": "[Имя], привет", "tags": ["a"]},
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    pk = resp.json()["id"]
    assert resp.json()["tags"] == ["a"]
    listed = api.get("/api/v1/sms/templates/").json()["results"]
    assert [t["id"] for t in listed] == [pk]
    resp = api.patch(f"/api/v1/sms/templates/{pk}/", {"text": "Новый"}, format="json")
    assert resp.status_code == 200 and resp.json()["text"] == "Новый"
    assert resp.json()["name"] == "Акция"
    assert api.delete(f"/api/v1/sms/templates/{pk}/").status_code == 204
    assert not MessageTemplate.objects.exists()


def test_template_validation_errors(api_client_for, user):
    resp = api_client_for(user).post(
        "/api/v1/sms/templates/", {"name": " ", "text": "x"}, format="json"
    )
    assert resp.status_code == 400
    assert "name" in resp.json()["error"]["fields"]


def test_foreign_templates_and_senders_are_404(api_client_for, user, other_user):
    template = MessageTemplate.objects.create(
        account=other_user.account, name="x", text="secret"
    )
    sender = SenderName.objects.create(account=other_user.account, name="Other")
    mt = ModerationTemplate.objects.create(
        account=other_user.account, text="Код [любая фраза]"
    )
    api = api_client_for(user)
    for url in (
        f"/api/v1/sms/templates/{template.pk}/",
        f"/api/v1/sms/senders/{sender.pk}/",
        f"/api/v1/sms/moderation-templates/{mt.pk}/",
    ):
        assert api.get(url).status_code == 404
        assert api.delete(url).status_code == 404
    assert (
        api.patch(
            f"/api/v1/sms/templates/{template.pk}/", {"text": "y"}, format="json"
        ).status_code
        == 404
    )
    assert api.get("/api/v1/sms/templates/").json()["results"] == []
    assert api.get("/api/v1/sms/senders/").json()["results"] == []
    template.refresh_from_db()
    assert template.text == "secret"
    assert SenderName.objects.filter(pk=sender.pk).exists()


def test_sender_request_through_the_api(api_client_for, user):
    api = api_client_for(user)
    resp = api.post("/api/v1/sms/senders/", {"name": "MyShop"}, format="json")
    assert resp.status_code == 201
    assert resp.json()["status"] == "pending"
    bad = api.post("/api/v1/sms/senders/", {"name": "Магазин"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_sender_name"
    again = api.post("/api/v1/sms/senders/", {"name": "MyShop"}, format="json")
    assert again.status_code == 400
    pk = resp.json()["id"]
    assert api.delete(f"/api/v1/sms/senders/{pk}/").status_code == 204
    assert not SenderName.objects.exists()


def test_a_pending_senders_blank_reason_is_allowed_by_the_schema(api_client_for, user):
    from drf_spectacular.generators import SchemaGenerator

    resp = api_client_for(user).post(
        "/api/v1/sms/senders/", {"name": "MyShop"}, format="json"
    )
    assert resp.json()["reason"] == ""
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"][
        "schemas"
    ]
    reason = schemas["SenderName"]["properties"]["reason"]
    allowed = {
        value
        for alternative in reason["oneOf"]
        for value in schemas[alternative["$ref"].rsplit("/", 1)[1]]["enum"]
    }
    assert "" in allowed and "brand" in allowed


def test_a_decided_sender_cannot_be_withdrawn(api_client_for, user):
    row = SenderName.objects.create(
        account=user.account, name="Shop", status="approved"
    )
    resp = api_client_for(user).delete(f"/api/v1/sms/senders/{row.pk}/")
    assert resp.status_code == 409
    assert SenderName.objects.filter(pk=row.pk).exists()


def test_moderation_templates_through_the_api(api_client_for, user):
    api = api_client_for(user)
    resp = api.post(
        "/api/v1/sms/moderation-templates/",
        {"text": "Ваш код: [любая фраза]"},
        format="json",
    )
    assert resp.status_code == 201 and resp.json()["status"] == "pending"
    bad = api.post(
        "/api/v1/sms/moderation-templates/", {"text": "[любая фраза]"}, format="json"
    )
    assert bad.status_code == 400
