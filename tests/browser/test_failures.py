"""What a person sees when something fails: an htmx action that meets a server
error or a lost connection says so in Russian instead of doing nothing, and a
missing page is the cabinet's own 404 page."""

import re

import pytest

from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


PHONE_PAGES = [
    "/",
    "/contacts/",
    "/sms/send/",
    "/messages/",
    "/reports/",
    "/reports/sms/messages/",
    "/reports/sms/sources/",
    "/billing/ledger/",
    "/billing/tariffs/",
    "/settings/",
    "/api-settings/tokens/",
    "/api-settings/webhooks/",
    "/sms/scheduler/",
    "/contacts/stoplist/",
]


def test_a_phone_sees_content_first_and_no_page_scrolls_sideways(
    browser, live_server, make_user
):
    from messaging import services

    user = make_user("phone@example.com")
    services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Распродажа обуви -30% только до воскресенья, приходите!",
        phones=["+79161234567", "+79031234567"],
        tags=["обувь"],
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=live_server.url
    )
    page = context.new_page()
    sign_in(page, "phone@example.com")
    # The menu is folded: the balance and the page's heading are on screen.
    assert page.locator("#header-balance").is_visible()
    assert page.locator("#header-balance").bounding_box()["x"] >= 0
    assert page.locator("h1").first.bounding_box()["y"] < 400
    assert not page.get_by_role("link", name="Группы").is_visible()
    page.get_by_role("button", name="☰ Меню").click()
    page.locator("nav.side summary", has_text="Контакты").click()
    page.get_by_role("link", name="Группы").click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    page.screenshot(path="var/screenshot-phone-contacts.png")
    wide = {}
    for path in PHONE_PAGES:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 392:
            wide[path] = width
    assert wide == {}
    context.close()


def test_a_fields_error_goes_once_the_field_is_edited(page, live_server, make_user):
    make_user("fix@example.com")
    sign_in(page, "fix@example.com")
    page.goto("/sms/send/")
    page.get_by_role("button", name="Отправить сообщение").click()
    text_error = page.get_by_text("Введите текст сообщения.")
    phones_error = page.get_by_text("Добавьте получателей", exact=False)
    text_error.wait_for()
    assert phones_error.count() >= 1
    page.locator("#id_text").fill("Скидка 20%")
    assert text_error.count() == 0
    page.locator("#id_phones").fill("+79161234567")
    assert page.locator("#id_phones ~ .errorlist").count() == 0
