import re

import pytest

from messaging.models import Campaign, Message
from messaging.sms_text import count_sms, transliterate
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRICKY = [
    "",
    "Hello",
    "a" * 160,
    "a" * 161,
    "a" * 306,
    "a" * 307,
    "€" * 80,
    "€" * 81,
    "a" * 152 + "€" + "a" * 10,
    "{}[]~^|\\ and \f",
    "Привет",
    "я" * 70,
    "я" * 71,
    "я" * 134,
    "я" * 135,
    "😀" * 35,
    "😀" * 36,
    "я" * 66 + "😀" + "я" * 10,
    "Hello 😀",
    "Ёжик в тумане — «ура»!",
    "ça va? ñ ü ß Ø",
    "Line1\nLine2\r\n",
    "`backtick`",
    "[Имя], скидка 10% по карте [card]!",
]


def test_the_js_counter_matches_count_sms(page, make_user):
    make_user("owner@example.com")
    sign_in(page)
    page.goto("/sms/send/")
    for text in TRICKY:
        js = page.evaluate("t => countSms(t)", text)
        py = count_sms(text)
        assert (js["encoding"], js["parts"], js["chars"], js["chars_left"]) == (
            py.encoding,
            py.parts,
            py.chars,
            py.chars_left,
        ), text
    for text in [
        "Привет, Щукин!",
        "ЖУК и Ёж",
        "Съешь «щей» — №5…",
        "Я" * 200,
        "Цена 100 ₽",
        "Їжак",
    ]:
        js = page.evaluate("t => countSms(transliterateForCount(t))", text)
        py = count_sms(transliterate(text))
        assert (js["encoding"], js["parts"], js["chars"], js["chars_left"]) == (
            py.encoding,
            py.parts,
            py.chars,
            py.chars_left,
        ), text


def test_compose_with_live_counter_substitution_preview_and_send(page, make_user):
    from contacts.models import Contact, Group

    user = make_user("owner@example.com")
    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79161234567",
        first_name="Иван",
        gender="m",
    )
    Contact.objects.create(
        account=user.account,
        group=group,
        phone="+79031112233",
        first_name="Мария",
        gender="f",
    )
    sign_in(page)
    page.goto("/sms/send/")
    counter = page.locator("#sms-counter")
    text = page.get_by_label("Текст сообщения")

    text.fill("Hello")
    assert counter.get_attribute("data-left") == "155"
    assert counter.locator("[data-encoding]").inner_text() == "GSM-7"
    text.fill("Привет")
    assert counter.get_attribute("data-left") == "64"
    assert counter.locator("[data-encoding]").inner_text() == "UCS-2"
    page.get_by_text("Транслитерация СМС").click()
    assert counter.locator("[data-encoding]").inner_text() == "GSM-7"
    assert counter.get_attribute("data-left") == "154"  # "Privet"
    page.get_by_text("Транслитерация СМС").click()
    text.fill("я" * 71)
    assert counter.get_attribute("data-parts") == "2"
    assert counter.locator("[data-approx]").is_hidden()

    # "Подставить" → Обращение → Уважаемый, then Телефонная книга → Имя.
    text.fill("")
    page.get_by_text("Подставить").click()
    page.screenshot(path="var/sms-insert-menu.png")
    page.get_by_role("menuitem", name="Уважаемый").click()
    text.press("End")
    text.type(" ")
    page.get_by_text("Подставить").click()
    page.get_by_role("menuitem", name="Имя", exact=True).click()
    text.press("End")
    text.type("! Ждем вас завтра в 20:00")
    assert text.input_value() == "[Уважаемый] [Имя]! Ждем вас завтра в 20:00"
    assert counter.locator("[data-approx]").is_visible()
    assert (
        "Указана примерная длина" in counter.inner_text().replace("\n", " ")
        or "УКАЗАНА ПРИМЕРНАЯ ДЛИНА" in counter.inner_text()
    )

    page.get_by_label("Добавить получателей").select_option(str(group.pk))
    page.get_by_text("Разрешенное время отправки").click()
    assert page.get_by_label("С", exact=True).is_visible()
    page.get_by_text("Время жизни сообщения").click()
    page.get_by_role("button", name="Рассчитать").click()
    estimate = page.locator("#estimate")
    estimate.get_by_text("Уважаемая Мария! Ждем вас завтра в 20:00").wait_for()
    assert "Уважаемый Иван!" in estimate.inner_text()
    assert "₽" in estimate.inner_text()
    page.screenshot(path="var/sms-compose.png", full_page=True)

    page.get_by_role("button", name="Отправить сообщение").click()
    page.wait_for_url(re.compile(r"/messages/"))
    campaign = Campaign.objects.get()
    assert campaign.options["window"]["weekdays"] == [1, 2, 3, 4, 5, 6, 7]
    assert campaign.options["ttl"] == 43200
    texts = dict(Message.objects.values_list("phone", "text"))
    assert texts["+79031112233"] == "Уважаемая Мария! Ждем вас завтра в 20:00"


def test_the_other_sms_pages_look_right(page, make_user):
    make_user("owner@example.com")
    sign_in(page)
    page.goto("/sms/senders/")
    page.get_by_role("button", name="Добавить").click()
    page.locator("#sender-dialog #id_name").fill("Магазин")
    page.get_by_role("button", name="Отправить запрос").click()
    page.get_by_text("латинского алфавита").first.wait_for()
    page.locator("#sender-dialog #id_name").fill("MyShop")
    page.get_by_role("button", name="Отправить запрос").click()
    page.locator("tr[data-request]").get_by_text("MyShop").wait_for()
    page.screenshot(path="var/sms-senders.png", full_page=True)

    page.goto("/sms/send/")
    page.get_by_label("Текст сообщения").fill("Шаблонный текст")
    page.get_by_role("button", name="Шаблоны").click()
    page.get_by_label("Название шаблона").fill("Мой шаблон")
    page.get_by_role("button", name="Продолжить").click()
    page.wait_for_url(re.compile(r"\?template=\d+"))
    assert page.get_by_label("Текст сообщения").input_value() == "Шаблонный текст"

    page.goto("/sms/templates/")
    page.get_by_text("Мой шаблон").wait_for()
    page.screenshot(path="var/sms-templates.png", full_page=True)

    page.goto("/sms/moderation-templates/")
    page.get_by_role("button", name="Добавить шаблон").click()
    dialog = page.locator("#mt-dialog")
    dialog.get_by_label("Текст смс").fill("Ваш код для входа: ")
    dialog.get_by_text("Подставить").click()
    dialog.get_by_role("menuitem", name="любая фраза").click()
    assert dialog.get_by_label("Текст смс").input_value() == (
        "Ваш код для входа: [любая фраза]"
    )
    dialog.get_by_role("button", name="Продолжить").click()
    page.locator("tr[data-mt]").get_by_text("На рассмотрении").wait_for()
    page.screenshot(path="var/sms-moderation-templates.png", full_page=True)

    page.goto("/sms/scheduler/new/")
    for label in ("Сентябрь", "Октябрь", "Ноябрь", "Среда", "Четверг"):
        page.get_by_label(label, exact=True).check()
    page.screenshot(path="var/sms-scheduler.png", full_page=True)


def test_greetings_and_advertising_pages(page, make_user):
    from messaging.models import AdvertisingRequest, Greeting

    make_user("owner@example.com")
    sign_in(page)
    page.goto("/sms/greetings/new/")
    page.get_by_label("Повод для рассылки").fill("День рождения")
    page.get_by_label("Текст сообщения").fill("С днем рождения!")
    page.get_by_role("button", name="Сохранить").click()
    # No group chosen: the form explains it and nothing is saved.
    page.get_by_text("Поздравления отправляются контактам групп").wait_for()
    assert not Greeting.objects.exists()
    page.screenshot(path="var/sms-greeting-form.png", full_page=True)

    page.goto("/sms/advertising/")
    page.get_by_role("button", name="Подать заявку").first.click()
    page.get_by_label("Города").fill("Москва")
    page.get_by_label("Объем рассылки, смс").fill("5000")
    page.get_by_label("Текст рассылки или повод").fill("Открытие магазина")
    page.get_by_label("Критерии отбора аудитории").fill("ЦАО, 25–45 лет")
    page.get_by_label("Контактный телефон или email").fill("+79161234567")
    page.locator("#ad-dialog").get_by_role("button", name="Подать заявку").click()
    page.get_by_text("Заявка принята").wait_for()
    assert AdvertisingRequest.objects.get().volume == 5000
    page.screenshot(path="var/sms-advertising.png", full_page=True)
