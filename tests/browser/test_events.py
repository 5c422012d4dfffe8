"""The manual's example (section 12.1), in a browser: a handler «Добавлен
новый контакт» → «Рассылка смс контакту»; a contact added by hand gets the
welcome SMS (seen in the report) and the run shows in the history; then the
switch turns it off (12.2)."""

import re

import pytest

from contacts.models import Group
from events.models import Handler, Run
from messaging.models import Message
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_welcome_sms_for_a_new_contact(page, user):
    group = Group.objects.create(account=user.account, name="Клиенты")
    sign_in(page)

    # «в левом меню выбираем раздел «События»»
    page.locator("nav.side summary", has_text="События").click()
    page.locator("nav.side").get_by_role("link", name="Обработчики событий").click()
    page.wait_for_url(re.compile(r"/events/$"))
    card = page.locator("section[data-kind=contact_added]")
    assert "Добавлен новый контакт" in card.inner_text()
    card.get_by_role("link", name="Добавить обработчик").click()
    page.wait_for_url(re.compile(r"/events/new/contact_added/$"))

    page.get_by_label("Добавить действие").select_option(label="Рассылка смс контакту")
    page.get_by_role("button", name="Добавить действие").click()
    block = page.locator("[data-action=sms_contact]")
    block.wait_for()
    page.get_by_label("Название").fill("Приветствие")
    page.get_by_label("Только для группы").select_option(label="Клиенты")
    block.get_by_label("Текст сообщения").fill("Здравствуйте, [Имя]! Рады знакомству.")
    page.screenshot(path="var/screenshot-events-form.png", full_page=True)
    page.get_by_role("button", name="Сохранить", exact=True).click()
    page.wait_for_url(re.compile(r"/events/\d+/$"))
    page.get_by_text("Обработчик сохранён.").wait_for()
    handler = Handler.objects.get()
    assert handler.is_active

    # A contact added by hand (manual 1.1).
    page.goto(f"/contacts/groups/{group.pk}/add/")
    page.get_by_label("Имя", exact=True).fill("Анна")
    page.get_by_label("Номер телефона").fill("8 (916) 123-45-67")
    page.get_by_role("button", name="Добавить контакт").click()
    page.get_by_text("Контакт +79161234567 добавлен.").wait_for()

    message = Message.objects.get(phone="+79161234567")
    assert message.text == "Здравствуйте, Анна! Рады знакомству."
    # The welcome SMS in the report.
    page.goto(f"/reports/campaigns/{message.campaign_id}/")
    body = page.locator("main").inner_text()
    assert "Событие" in body
    page.goto("/reports/sms/messages/")
    row = page.locator("tr", has_text="+79161234567").first
    row.wait_for()
    assert "Здравствуйте, Анна!" in row.inner_text()

    # The run in the handler's history.
    page.goto("/events/")
    page.get_by_role("link", name="Приветствие").click()
    history = page.locator("tr[data-run]")
    history.first.wait_for()
    text = history.first.inner_text()
    assert "Контакт +79161234567 добавлен (вручную) в группу «Клиенты»" in text
    assert "Выполнено" in text
    assert f"№{message.campaign_id}" in text
    assert Run.objects.get().outcome == "ok"
    page.screenshot(path="var/screenshot-events-history.png", full_page=True)

    # 12.2: the switch turns it off (grey «не активно»); × deletes it.
    page.goto("/events/")
    card = page.locator(f"[data-handler='{handler.pk}']")
    card.get_by_role("switch").click()
    page.locator(f"[data-handler='{handler.pk}']").get_by_text("не активно").wait_for()
    handler.refresh_from_db()
    assert not handler.is_active
    page.screenshot(path="var/screenshot-events-list.png", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"[data-handler='{handler.pk}']").get_by_role(
        "button", name="Удалить"
    ).click()
    page.get_by_text("Обработчик удалён.").wait_for()
    assert not Handler.objects.exists()
