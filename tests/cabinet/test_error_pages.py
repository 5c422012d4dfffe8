"""Error pages a person sees are in Russian (and in English for an English
cabinet), and a query string with U+0000 is a clear 400 everywhere, never a
server error (PostgreSQL cannot compare text with it)."""

import pytest
from django.test import Client

from contacts.models import Group

pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_a_russian_404(client_for, user):
    response = client_for(user).get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Страница не найдена" in page and 'href="/"' in page


def test_another_accounts_group_is_the_same_404_page(client_for, user, other_user):
    group = Group.objects.create(account=other_user.account, name="Чужая")
    response = client_for(user).get(f"/contacts/groups/{group.pk}/")
    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()
    assert "Чужая" not in response.content.decode()


def test_the_english_cabinet_gets_english_error_pages(client_for, user):
    client = client_for(user)
    client.cookies["django_language"] = "en"
    page = client.get("/no-such-page/").content.decode()
    assert "Page not found" in page and "Страница" not in page


def test_a_server_error_is_a_calm_page_without_internals(user, monkeypatch):
    from contacts import selectors

    def broken(**kwargs):
        raise RuntimeError("internals: secret table name")

    monkeypatch.setattr(selectors, "contacts_search_page", broken)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get("/contacts/search/?q=x")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Что-то пошло не так" in page and "internals" not in page


@pytest.mark.parametrize(
    "url",
    [
        "/contacts/search/?q=a%00b",
        "/contacts/?q=%00",
        "/reports/?q=a%00b",
        "/contacts/search/?%00=1",
    ],
)
def test_nul_in_a_web_query_is_a_400_page(client_for, user, url):
    response = client_for(user).get(url)
    assert response.status_code == 400
    assert "Неверный запрос" in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/api/v1/messages/?phone=a%00b", "/api/v1/groups/?cursor=%00"]
)
def test_nul_in_an_api_query_is_a_json_400(api_client_for, user, url):
    response = api_client_for(user).get(url)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request" and "U+0000" in error["message"]


def test_nul_in_a_compat_query_keeps_the_compat_envelope(client):
    # The compatible APIs answer errors with HTTP 200 (issue 15), each in its
    # own shape.
    response = client.get("/lcabApi/info.php?login=a%00b")
    assert response.status_code == 200
    assert response.json()["code"] == 400 and "U+0000" in response.json()["descr"]
    response = client.post("/json/v1.0/sms/status?x=%00", "[]", "application/json")
    assert response.status_code == 200
    assert response.json()["success"] is False


def test_nul_in_a_posted_form_is_a_400_page_and_changes_nothing(client_for, user):
    from contacts.models import CustomField

    field = CustomField.objects.create(account=user.account, name="Карта", key="card")
    response = client_for(user).post(
        "/contacts/fields/",
        {"form": "rename", "id": str(field.pk), "name": "Ка\x00рта"},
    )
    assert response.status_code == 400
    field.refresh_from_db()
    assert field.name == "Карта"


def test_nul_in_a_url_encoded_form_is_refused_too(client_for, user):
    from urllib.parse import urlencode

    from contacts.models import CustomField

    field = CustomField.objects.create(account=user.account, name="Карта", key="card")
    response = client_for(user).post(
        "/contacts/fields/",
        urlencode({"form": "rename", "id": str(field.pk), "name": "Ка\x00рта"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    field.refresh_from_db()
    assert field.name == "Карта"


def test_every_kind_of_page_names_the_icon_and_the_icon_is_served(client, user):
    """No favicon: the browser's tab showed a blank page icon."""
    icon = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    assert icon in client.get("/login/").content.decode()  # sign-in
    assert icon in client.get("/no-such-page/").content.decode()  # error pages
    assert icon in client.get("/promo/check/").content.decode()  # promo check
    client.force_login(user)
    assert icon in client.get("/").content.decode()  # the cabinet
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(svg.streaming_content)
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy["Location"] == "/static/favicon.svg"
