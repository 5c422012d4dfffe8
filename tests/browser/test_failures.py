"""What a person sees when something fails: an htmx action that meets a server
error or a lost connection says so in Russian instead of doing nothing, and a
missing page is the cabinet's own 404 page."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email):
    page.goto("/login/")
    page.get_by_label("Email для входа").fill(email)
    page.locator("#id_password").fill("secret-pass-123")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/$"))


def test_a_failed_htmx_action_says_so(page, live_server, make_user, monkeypatch):
    from cabinet import selectors

    make_user("fail@example.com")
    sign_in(page, "fail@example.com")

    def broken(**kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(selectors, "notifications", broken)
    page.locator("a.bell").click()
    alert = page.locator("#htmx-errors")
    alert.get_by_text("ошибка на сервере").wait_for()
    assert "database" not in alert.inner_text()
    page.screenshot(path="var/screenshot-htmx-error.png")

    # A lost connection: the next request never reaches the server.
    monkeypatch.undo()
    page.route("**/notifications/**", lambda route: route.abort())
    page.locator("a.bell").click()
    alert.get_by_text("Нет связи с сервером").wait_for()


def test_a_missing_page_is_the_cabinets_404(page, live_server, make_user):
    make_user("lost@example.com")
    sign_in(page, "lost@example.com")
    response = page.goto("/contacts/groups/999999/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Страница не найдена").is_visible()
    page.get_by_role("link", name="На главную").click()
    page.wait_for_url(re.compile(r"/$"))
