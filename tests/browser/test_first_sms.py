import re
from decimal import Decimal

import pytest

from cabinet.models import Account
from messaging.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_user_registers_signs_in_and_sends_an_sms(page, live_server):
    from billing.services import account_credit
    from cabinet.models import User

    page.goto("/")
    assert "/login/" in page.url
    page.get_by_role("link", name="Регистрация").click()
    page.get_by_label("Email для входа").fill("new@example.com")
    page.get_by_label("Организация").fill("ООО Ромашка")
    page.locator("#id_password1").fill("very-secret-42")
    page.locator("#id_password2").fill("very-secret-42")
    page.get_by_role("button", name="Зарегистрироваться").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("#header-balance").inner_text().startswith("0")

    # Staff credit the new account and trust it (no new-account moderation);
    # then the user signs out and in again.
    user = User.objects.get(email="new@example.com")
    account_credit(account_id=user.account_id, amount=Decimal("100"), reason="Тест")
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    page.get_by_role("button", name="Выход").click()
    page.get_by_label("Email для входа").fill("new@example.com")
    page.locator("#id_password").fill("very-secret-42")
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("#header-balance").inner_text().startswith("100")

    page.get_by_role("link", name="Отправить СМС").click()
    page.get_by_label("Номера телефонов").fill("8 (916) 123-45-67")
    page.get_by_label("Текст сообщения").fill("Здравствуйте! Ждём вас завтра в 20:00")
    page.get_by_role("button", name="Отправить сообщение").click()
    page.wait_for_url(re.compile(r"/messages/"))
    row = page.locator("tr[data-message]").first
    row.get_by_text("Доставлено").wait_for()
    assert "+79161234567" in row.inner_text()

    message = Message.objects.get()
    balance = Account.objects.get(pk=user.account_id).balance
    assert balance == Decimal("100") - message.price
    assert (
        page.locator("#header-balance")
        .inner_text()
        .startswith(str(balance).replace(".", ","))
    )
    page.screenshot(path="var/screenshot-messages.png", full_page=True)
