"""Browser journey (A1): create a token, see it once, use it, revoke it; set a
webhook."""

import json
import re
import urllib.error
import urllib.request

import pytest

from cabinet.models import ApiToken
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def status(live_server, key):
    request = urllib.request.Request(
        f"{live_server.url}/json/v1.0/sms/status",
        data=b'["nothing"]',
        method="POST",
        headers={"Content-Type": "application/json", "X-Token": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_user_creates_uses_and_revokes_a_token(page, live_server, make_user):
    user = make_user("api@example.com")
    sign_in(page, user.email)
    page.locator("nav.side summary", has_text="API").click()
    page.locator("nav.side").get_by_role("link", name="Токены").click()
    page.wait_for_url(re.compile(r"/api-settings/tokens/"))
    block = page.locator("#scope-messaging")
    block.get_by_text("Нет данных").wait_for()
    page.screenshot(path="var/screenshot-api-tokens-empty.png", full_page=True)

    block.get_by_text("Создать токен").click()
    block.get_by_label("Описание").fill("Сервер 1")
    block.get_by_label("Разрешённые IP-адреса").fill("127.0.0.1")
    block.get_by_role("button", name="Создать").click()
    page.wait_for_url(re.compile(r"/api-settings/tokens/$"))
    key = page.locator("#new-token-key").inner_text().strip()
    assert len(key) > 30
    page.screenshot(path="var/screenshot-api-token-created.png", full_page=True)
    row = page.locator("#scope-messaging tr[data-token]")
    assert "Сервер 1" in row.inner_text() and "127.0.0.1" in row.inner_text()
    assert key not in row.inner_text()

    code, body = status(live_server, key)
    assert code == 200 and body["success"] is True

    # The key is not shown again.
    page.reload()
    assert page.locator("#new-token-key").count() == 0
    assert key not in page.content()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#scope-messaging").get_by_role("button", name="Отозвать").click()
    page.get_by_text("отозван:").wait_for()
    assert ApiToken.objects.get().revoked_at is not None
    code, body = status(live_server, key)
    # The compatible API answers errors in the body with HTTP 200 (issue 15).
    assert code == 200 and body["success"] is False
    assert body["error"]["code"] == 401
    page.screenshot(path="var/screenshot-api-token-revoked.png", full_page=True)


def test_a_user_sets_a_webhook(page, live_server, make_user):
    user = make_user("hooks@example.com")
    sign_in(page, user.email)
    page.goto("/api-settings/webhooks/")
    page.get_by_label("Адрес (URL) для уведомлений").fill(
        "https://hooks.example.com/sms"
    )
    page.get_by_role("button", name="Сохранить").click()
    page.get_by_text("Настройки вебхука сохранены.").wait_for()
    assert page.locator("#webhook-secret").inner_text().strip()
    page.screenshot(path="var/screenshot-webhooks.png", full_page=True)
    page.goto("/api-settings/json-api/")
    page.get_by_role("heading", name="POST /json/v1.0/sms/send/text").wait_for()
    page.get_by_role("heading", name="XML API").wait_for()
    page.get_by_role("heading", name="Вызовы /lcabApi/").wait_for()
    page.screenshot(path="var/screenshot-json-api-docs.png", full_page=True)


def test_the_rest_api_docs_render_from_our_own_static_files(
    page, live_server, make_user
):
    """Swagger UI is vendored (drf-spectacular-sidecar): the docs page works
    without the internet and loads nothing from another host."""
    user = make_user("docs@example.com")
    sign_in(page, user.email)
    foreign = []
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if not request.url.startswith((live_server.url, "data:", "blob:"))
            else None
        ),
    )
    page.goto("/api-settings/tokens/")
    page.get_by_role("link", name="Документация REST API").click()
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 40
    page.get_by_text("/api/v1/groups/").first.wait_for()
    assert foreign == []
    page.screenshot(path="var/screenshot-rest-api-docs.png")
    page.get_by_role("link", name="← API: токены").click()
    page.wait_for_url(re.compile(r"/api-settings/tokens/$"))
