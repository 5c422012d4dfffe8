"""Cabinet pages: API tokens (A1), webhooks settings and log, protocol
credentials and the legacy balance call."""

import re

import pytest

from cabinet.models import ApiToken, hash_token
from integrations import services
from integrations.models import ProtocolCredentials, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def create_token(client, scope="messaging", description="Сервер 1", ips=""):
    return client.post(
        "/api-settings/tokens/create/",
        {
            "scope": scope,
            f"{scope}-scope": scope,
            f"{scope}-description": description,
            f"{scope}-allowed_ips": ips,
        },
        follow=True,
    )


def test_tokens_page_has_the_three_blocks_of_the_manual(user, client_for):
    resp = client_for(user).get("/api-settings/tokens/")
    html = resp.content.decode()
    for label in (
        "Рассылка сообщений",
        "Online-чат",
        "Личный кабинет",
        "Создать токен",
        "Документация",
        "Старая документация",
        "Описание",
        "Параметры",
        "Token",
        "Нет данных",
    ):
        assert label in html


def test_a_token_is_shown_once_and_stored_hashed(user, client_for):
    client = client_for(user)
    resp = create_token(client, ips="203.0.113.5\n198.51.100.0/24")
    key = re.search(r'id="new-token-key">([^<]+)<', resp.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.key_hash == hash_token(key) and key not in (
        token.prefix,
        token.key_hash,
    )
    assert token.scopes == ["messaging"] and token.description == "Сервер 1"
    assert token.allowed_ip_list() == ["203.0.113.5", "198.51.100.0/24"]
    html = resp.content.decode()
    assert f"{token.prefix}…" in html and "203.0.113.5" in html
    # Reloading the page never shows the key again.
    assert key not in client.get("/api-settings/tokens/").content.decode()
    # The key works with the JSON API (its scope) and the REST API.
    resp = client.post(
        "/json/v1.0/sms/status",
        '["x"]',
        content_type="application/json",
        HTTP_X_TOKEN=key,
        REMOTE_ADDR="203.0.113.5",
    )
    assert resp.status_code == 200
    resp = client.get(
        "/api/v1/balance/",
        HTTP_AUTHORIZATION=f"Token {key}",
        REMOTE_ADDR="198.51.100.77",
    )
    assert resp.status_code == 200


def test_bad_allowed_ips_create_nothing(user, client_for):
    resp = create_token(client_for(user), ips="not-an-ip")
    assert "не IP-адрес" in resp.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_stops_the_token(user, client_for):
    client = client_for(user)
    create_token(client, scope="cabinet")
    token = ApiToken.objects.get()
    resp = client.post(f"/api-settings/tokens/{token.pk}/revoke/", follow=True)
    assert "отозван" in resp.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    # Revoking twice changes nothing.
    first = token.revoked_at
    client.post(f"/api-settings/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at == first


def test_a_foreign_token_is_invisible(user, other_user, client_for):
    from cabinet.services import token_create

    theirs = token_create(
        account=other_user.account, scopes=["messaging"], description="их сервер"
    ).token
    client = client_for(user)
    assert "их сервер" not in client.get("/api-settings/tokens/").content.decode()
    assert client.post(f"/api-settings/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_an_operator_sees_tokens_but_cannot_create_or_revoke(
    user, make_user, client_for
):
    from cabinet.services import token_create

    token = token_create(account=user.account, scopes=["messaging"]).token
    operator = make_user(account=user.account, role="operator")
    client = client_for(operator)
    html = client.get("/api-settings/tokens/").content.decode()
    assert f"{token.prefix}…" in html and "Создать токен" not in html
    assert create_token(client).status_code == 403
    assert client.post(f"/api-settings/tokens/{token.pk}/revoke/").status_code == 403
    assert ApiToken.objects.count() == 1


def test_tokens_page_query_count_does_not_grow(
    user, client_for, django_assert_max_num_queries
):
    from cabinet.services import token_create

    client = client_for(user)
    for i in range(20):
        token_create(account=user.account, scopes=["messaging"], description=f"t{i}")
    with django_assert_max_num_queries(12):
        assert client.get("/api-settings/tokens/").status_code == 200


def test_webhook_settings_and_log(user, client_for, settings):
    client = client_for(user)
    resp = client.post(
        "/api-settings/webhooks/",
        {
            "url": "https://hooks.example.com/sms",
            "is_active": "on",
            "send_statuses": "on",
        },
        follow=True,
    )
    html = resp.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert (
        endpoint.url == "https://hooks.example.com/sms" and not endpoint.send_incoming
    )
    assert endpoint.secret in html and "Журнал доставки" in html
    WebhookDelivery.objects.create(
        account=user.account,
        endpoint=endpoint,
        url=endpoint.url,
        events_count=3,
        status_code=503,
        error="HTTP 503",
    )
    html = client.get("/api-settings/webhooks/").content.decode()
    assert "HTTP 503" in html
    settings.WEBHOOK_ALLOW_PRIVATE = False
    resp = client.post("/api-settings/webhooks/", {"url": "http://192.168.1.1/x"})
    assert "внутренней сети" in resp.content.decode()
    assert WebhookEndpoint.objects.get().url == "https://hooks.example.com/sms"
    old = endpoint.secret
    client.post("/api-settings/webhooks/secret/")
    assert WebhookEndpoint.objects.get().secret != old


def test_the_delivery_log_is_per_account(user, other_user, client_for):
    theirs = services.webhook_save(
        account=other_user.account, url="https://them.example/h"
    )
    WebhookDelivery.objects.create(
        account=other_user.account,
        endpoint=theirs,
        url=theirs.url,
        events_count=1,
        error="их ошибка",
    )
    html = client_for(user).get("/api-settings/webhooks/").content.decode()
    assert "их ошибка" not in html and theirs.secret not in html


def test_protocol_credentials_and_legacy_balance(user, client_for, client):
    cabinet = client_for(user)
    resp = cabinet.post(
        "/api-settings/protocol/",
        {
            "login": "shop-1",
            "password": "long-secret-1",
            "ip_restricted": "on",
            "allowed_ips": "10.0.0.0/8",
        },
        follow=True,
    )
    assert "сохранены" in resp.content.decode()
    creds = ProtocolCredentials.objects.get()
    assert "long-secret-1" not in creds.password_hash
    cabinet.logout()
    ok = client.post(
        "/lcabApi/info.php",
        {"login": "shop-1", "password": "long-secret-1"},
        REMOTE_ADDR="10.2.3.4",
    )
    assert ok.status_code == 200
    assert ok.json()["code"] == 1 and ok.json()["account"] == 1000.0
    # What real clients read besides the balance: descr and the sender names.
    assert ok.json()["descr"] and ok.json()["source"] == ["SMSinfo"]
    bad = client.post(
        "/lcabApi/info.php",
        {"login": "shop-1", "password": "nope"},
        REMOTE_ADDR="10.2.3.4",
    )
    assert bad.json()["code"] == 3 and bad.json()["descr"]
    wrong_ip = client.post(
        "/lcabApi/info.php",
        {"login": "shop-1", "password": "long-secret-1"},
        REMOTE_ADDR="8.8.8.8",
    )
    assert wrong_ip.json()["code"] == 4
    missing = client.post("/lcabApi/info.php", {})
    assert missing.json()["code"] == 2


def test_protocol_form_errors_change_nothing(user, other_user, client_for):
    services.protocol_credentials_save(
        account=other_user.account, login="taken", password="secret-123"
    )
    client = client_for(user)
    for data, error in (
        ({"login": "taken", "password": "secret-1234"}, "логин уже занят"),
        ({"login": "me", "password": "secret-1234"}, "Убедитесь"),
        ({"login": "mine", "password": ""}, "Задайте пароль"),
        (
            {"login": "mine", "password": "secret-1234", "ip_restricted": "on"},
            "хотя бы один IP",
        ),
        (
            {"login": "mine", "password": "secret-1234", "allowed_ips": "x.y"},
            "не IP-адрес",
        ),
    ):
        resp = client.post("/api-settings/protocol/", data)
        assert error in resp.content.decode(), error
    assert ProtocolCredentials.objects.filter(account=user.account).count() == 0


def test_legacy_balance_locks_out_after_many_failures(user, client):
    services.protocol_credentials_save(
        account=user.account, login="shop", password="secret-123"
    )
    for _ in range(services.FAILURES_LIMIT):
        client.post("/lcabApi/info.php", {"login": "shop", "password": "guess"})
    resp = client.post("/lcabApi/info.php", {"login": "shop", "password": "secret-123"})
    assert resp.status_code == 200 and resp.json()["code"] == 6


def test_docs_page_lists_status_words_and_codes(user, client_for):
    html = client_for(user).get("/api-settings/json-api/").content.decode()
    for word in (
        "enqueued",
        "delivered",
        "undelivered",
        "moderCancel",
        "finalizator",
        "providerCancel",
        "click",
        "/lcabApi/info.php",
        "1003",
        "X-Token",
        # The XML API and the legacy calls are on the same page (issue 15).
        "/API/XML/send.php",
        "report.php",
        "returnType=json",
        "sendSms.php",
        "getGroups.php",
        "organizationDescr",
    ):
        assert word in html


def test_menu_links_of_the_api_section_answer(user, client_for):
    from django.urls import reverse

    client = client_for(user)
    for name in (
        "integrations:tokens",
        "integrations:webhooks",
        "integrations:compat_docs",
        "integrations:protocol",
        "api-docs",
    ):
        assert client.get(reverse(name)).status_code == 200, name


def test_webhook_log_query_count_does_not_grow(
    user, client_for, django_assert_max_num_queries
):
    endpoint = services.webhook_save(account=user.account, url="https://example.com/h")
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                account=user.account,
                endpoint=endpoint,
                url=endpoint.url,
                events_count=i,
                success=bool(i % 2),
                status_code=200,
            )
            for i in range(60)
        ]
    )
    client = client_for(user)
    with django_assert_max_num_queries(12):
        resp = client.get("/api-settings/webhooks/")
    assert resp.content.decode().count("data-delivery=") == 30
    with django_assert_max_num_queries(12):
        resp = client.get("/api-settings/webhooks/?page=2", HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert html.count("data-delivery=") == 30 and "<html" not in html


def test_an_operator_cannot_see_the_secret_or_change_settings(
    user, make_user, client_for
):
    endpoint = services.webhook_save(account=user.account, url="https://example.com/h")
    operator = make_user(account=user.account, role="operator")
    client = client_for(operator)
    html = client.get("/api-settings/webhooks/").content.decode()
    assert "https://example.com/h" in html and endpoint.secret not in html
    assert (
        client.post(
            "/api-settings/webhooks/", {"url": "https://x.example/"}
        ).status_code
        == 403
    )
    assert client.post("/api-settings/webhooks/secret/").status_code == 403
    assert (
        client.post(
            "/api-settings/protocol/", {"login": "abc", "password": "secret-123"}
        ).status_code
        == 403
    )
    assert WebhookEndpoint.objects.get().url == "https://example.com/h"
    assert WebhookEndpoint.objects.get().secret == endpoint.secret
