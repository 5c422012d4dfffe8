import re

import pytest

from promo.models import PromoAction, PromoCode, PromoManager
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


def test_an_owner_creates_an_action_and_a_manager_login(page, make_user):
    make_user("owner@example.com")
    sign_in(page)
    page.goto("/promo/")
    page.get_by_text("Пока не создано ни одной акции").wait_for()
    page.get_by_role("link", name="Создать акцию").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Название акции").fill("Кофе в подарок")
    dialog.get_by_label("Срок действия промо-кода, дней").fill("14")
    dialog.get_by_label("Длина кода").select_option("7")
    dialog.get_by_label("Инструкция для менеджера").fill("Налейте клиенту кофе.")
    page.screenshot(path="var/promo-create-action.png", full_page=True)
    dialog.get_by_role("button", name="Создать акцию").click()
    page.get_by_text("Акция «Кофе в подарок» создана.").wait_for()
    row = page.locator("tr[data-action]").first
    assert "Кофе в подарок" in row.inner_text()
    action = PromoAction.objects.get()
    assert (action.valid_days, action.code_length) == (14, 7)
    page.screenshot(path="var/promo-actions.png", full_page=True)
    row.get_by_role("link", name="Кофе в подарок").click()
    page.get_by_role("heading", name="Промокоды").wait_for()
    page.get_by_label("Дополнительные напоминания").check()
    page.get_by_label("Текст напоминания").fill("Ваш код [couponCode] ждёт вас!")
    page.get_by_role("button", name="Сохранить").click()
    page.get_by_text("Акция сохранена.").wait_for()
    action.refresh_from_db()
    assert action.reminders_enabled and "[couponCode]" in action.reminder_text
    page.screenshot(path="var/promo-action-detail.png", full_page=True)

    page.get_by_role("link", name="Менеджеры", exact=True).first.click()
    page.wait_for_url(re.compile(r"/promo/managers/$"))
    page.get_by_role("link", name="Добавить менеджера").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Имя менеджера").fill("Анна")
    dialog.get_by_label("Логин").fill("anna")
    dialog.get_by_label("Пароль").fill("anna-pass-1")
    dialog.get_by_role("button", name="Сохранить").click()
    page.get_by_text("Менеджер Анна добавлен").wait_for()
    assert PromoManager.objects.get().check_password("anna-pass-1")
    page.screenshot(path="var/promo-managers.png", full_page=True)


def test_a_manager_checks_and_redeems_a_code_on_a_phone(
    browser, live_server, make_user
):
    from promo.services import PromoCodeIssuer, action_create, manager_create

    owner = make_user("owner@example.com")
    action = action_create(
        account_id=owner.account_id,
        name="Кофе в подарок",
        code_length=6,
        valid_days=14,
        instruction="Налейте клиенту кофе любого размера.",
    )
    issuer = PromoCodeIssuer(
        account_id=owner.account_id, action_id=action.pk, campaign_id=None
    )
    code = issuer.issue(phone="+79161234567", message_id=None)
    issuer.flush()
    manager_create(
        account_id=owner.account_id, name="Анна", login="anna", password="anna-pass-1"
    )

    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto("/promo/check/")
        page.get_by_role("heading", name="Авторизация").wait_for()
        page.screenshot(path="var/promo-check-login.png", full_page=True)
        page.get_by_label("Логин:").fill("anna")
        page.get_by_label("Пароль:").fill("wrong-pass")
        page.get_by_role("button", name="Войти").click()
        page.get_by_text("Неверный логин или пароль.").wait_for()
        page.get_by_label("Пароль:").fill("anna-pass-1")
        page.get_by_label("Логин:").fill("anna")
        page.get_by_role("button", name="Войти").click()

        page.get_by_label("Введите промокод клиента:").fill(code.lower())
        page.get_by_role("button", name="Проверить").click()
        result = page.locator("#result")
        result.get_by_text("Промокод действителен").wait_for()
        assert "Налейте клиенту кофе" in result.inner_text()
        # Fits the phone: no horizontal scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path="var/promo-check-valid.png", full_page=True)
        result.get_by_role("button", name="Отметить как использованный").click()
        page.get_by_text("Промокод отмечен как использованный").wait_for()
        assert PromoCode.objects.get(code=code).used_by_name == "Анна"

        page.get_by_label("Введите промокод клиента:").fill(code)
        page.get_by_role("button", name="Проверить").click()
        page.locator("#result").get_by_text("Промокод уже использован").wait_for()
        assert "Анна" in page.locator("#result").inner_text()
        page.screenshot(path="var/promo-check-used.png", full_page=True)

        page.get_by_label("Введите промокод клиента:").fill("ZZZZZZ")
        page.get_by_role("button", name="Проверить").click()
        page.locator("#result").get_by_text("Промокод не найден").wait_for()

        page.get_by_role("button", name="Выйти").click()
        page.get_by_role("heading", name="Авторизация").wait_for()
    finally:
        context.close()
