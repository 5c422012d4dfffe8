"""Two browsers: a visitor on a page of another origin (the embed snippet) and
an operator in the cabinet's console exchange messages live; the widget comes
back after a dropped connection without losing the operator's answer; then an
SMS recipient's reply through the chat link lands in the same console and the
operator's answer goes back by SMS, charged like any message."""

import os
import re
from pathlib import Path

import pytest

from tests.browser.helpers import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/chat-shots"))


@pytest.fixture
def chromium(browser):
    """The worker's one Playwright browser (tests/conftest.py)."""
    return browser


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_visitor_and_operator_live_then_an_sms_reply(
    chromium, asgi_server, static_site, user
):
    from playwright.sync_api import expect

    from billing.models import LedgerEntry
    from chat.models import ChatMessage, Conversation
    from messaging import services as messaging
    from messaging.models import Campaign

    # The operator signs in and connects the site.
    op_ctx = chromium.new_context(base_url=asgi_server.url, locale="ru-RU")
    op = op_ctx.new_page()
    op.set_default_timeout(15000)
    op.goto("/login/")
    op.get_by_label("Email для входа").fill(user.email)
    op.locator("#id_password").fill(PASSWORD)
    op.get_by_role("button", name="Войти").click()
    op.wait_for_url(re.compile(r"/$"))
    op.goto("/chat/sites/")
    expect(op.get_by_text("До 3 операторов")).to_be_visible()
    expect(op.get_by_text("Шаблонные ответы")).to_be_visible()
    shot(op, "sites")
    op.get_by_role("button", name="Подключить новый сайт").click()
    op.get_by_label("Адрес сайта").fill(static_site.url)
    op.get_by_label("Язык виджета").select_option("ru")
    op.get_by_role("button", name="Добавить", exact=True).click()
    expect(op.get_by_role("heading", name="Внешний вид")).to_be_visible()
    snippet = op.locator("#snippet").input_value()
    assert f'src="{asgi_server.url}/chat/widget.js"' in snippet
    # «Внешний вид»: the preview follows the form before it is saved.
    op.get_by_label("Приветствие").fill("Добрый день! Спрашивайте.")
    expect(op.locator("#wm-greeting")).to_have_text("Добрый день! Спрашивайте.")
    op.get_by_label("Положение").select_option("left")
    expect(op.locator("#widget-mock")).to_have_attribute("data-position", "left")
    op.get_by_role("button", name="Сохранить").click()
    expect(op.get_by_text("Внешний вид сохранён.")).to_be_visible()
    shot(op, "site")
    static_site.pages["/"] = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Магазин</title>"
        f"</head><body><h1>Магазин</h1>{snippet}</body></html>"
    )

    op.goto("/chat/console/")
    expect(op.locator("#conn-state")).to_have_text("В сети")

    # The visitor, on the client's site (another origin).
    v_ctx = chromium.new_context(locale="ru-RU")
    v = v_ctx.new_page()
    v.set_default_timeout(15000)
    dropped = {"paused": False, "routes": []}

    def through(ws):
        if dropped["paused"]:
            ws.close(code=4000)
            return
        ws.connect_to_server()
        dropped["routes"].append(ws)

    v.route_web_socket(re.compile(r".*/ws/chat/visitor/.*"), through)
    v.goto(static_site.url + "/")
    v.get_by_role("button", name="Напишите нам").click()
    expect(v.get_by_text("Добрый день! Спрашивайте.")).to_be_visible()
    box = v.get_by_role("textbox", name="Введите сообщение…")
    box.fill("Здравствуйте! <b>Есть доставка?</b>")
    box.press("Enter")

    row = op.locator("#conversations li.conv").first
    expect(row.locator(".unread")).to_have_text("1")
    row.click()
    expect(op.locator("#chat-log")).to_contain_text(
        "Здравствуйте! <b>Есть доставка?</b>"
    )
    expect(op.locator("#visitor-info")).to_contain_text(static_site.url)
    expect(op.locator("#visitor-info")).to_contain_text("Chrome")
    box.press_sequentially("А")
    expect(op.locator("#typing")).to_have_text("Посетитель печатает…")
    reply = op.get_by_role("textbox", name="Ответ посетителю")
    reply.fill("Да, курьером <i>завтра</i>")
    reply.press("Enter")
    expect(v.locator(".log .operator").last).to_have_text("Да, курьером <i>завтра</i>")
    shot(v, "widget")

    # The network drops; the operator answers meanwhile; the widget reconnects.
    dropped["paused"] = True
    dropped["routes"][-1].close(code=4000)
    expect(v.get_by_text("Нет связи, переподключаемся…")).to_be_visible()
    reply.fill("Доставим до 18:00")
    reply.press("Enter")
    expect(op.locator("#chat-log")).to_contain_text("Доставим до 18:00")
    dropped["paused"] = False
    expect(v.locator(".log .operator").last).to_have_text(
        "Доставим до 18:00", timeout=20000
    )
    assert (
        ChatMessage.objects.filter(author="operator", text="Доставим до 18:00").count()
        == 1
    )
    # A new page of the site shows the whole conversation again.
    v.reload()
    v.get_by_role("button", name="Напишите нам").click()
    expect(v.locator(".log .operator")).to_have_count(2)
    shot(op, "console")

    # An SMS campaign asked for answers in the online chat; a recipient answers
    # through the chat link, and the answer shows in the console.
    campaign = messaging.campaign_launch(
        account=user.account,
        channel="sms",
        text="Скидка 20% до пятницы",
        phones=["+79161234567"],
        options={"chat_link": True},
    )
    token = campaign.messages.get().text.rsplit("/s/", 1)[1]
    r_ctx = chromium.new_context(base_url=asgi_server.url, locale="ru-RU")
    r = r_ctx.new_page()
    r.goto(f"/s/{token}")
    r.get_by_label("Ваше сообщение").fill("А на ботинки тоже?")
    r.get_by_role("button", name="Отправить").click()
    expect(r.get_by_text("Спасибо! Ваше сообщение доставлено.")).to_be_visible()

    sms_row = op.locator("#conversations li.conv", has_text="+79161234567")
    expect(sms_row.locator(".unread")).to_have_text("1")
    expect(sms_row).to_contain_text(f"Ответ на рассылку #{campaign.pk}")
    sms_row.click()
    expect(op.locator("#campaign-note")).to_contain_text("Скидка 20% до пятницы")
    balance = user.account.__class__.objects.get(pk=user.account_id).balance
    reply.fill("Да, на всё")
    reply.press("Enter")
    expect(op.locator("#chat-log")).to_contain_text("Да, на всё")
    answer = Campaign.objects.exclude(pk=campaign.pk).get()
    assert answer.channel == "sms"
    assert answer.messages.get().phone.lstrip("+") == "79161234567"
    assert answer.text == "Да, на всё"
    assert LedgerEntry.objects.filter(
        account=user.account, reference__contains=str(answer.pk)
    ).exists() or (
        user.account.__class__.objects.get(pk=user.account_id).balance < balance
    )
    conv = Conversation.objects.get(visitor__phone="79161234567")
    assert conv.channel == "sms" and conv.campaign_id == campaign.pk
    shot(op, "console-sms")
    for ctx in (v_ctx, op_ctx, r_ctx):
        ctx.close()
