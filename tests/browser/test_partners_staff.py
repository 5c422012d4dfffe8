"""Partnership and the staff console in a real browser: a client signs up
through a partner's link and pays, the partner sees the reward and asks for a
withdrawal, staff approve it in the console; a new account's campaign goes to
moderation and staff approve it in the console."""

import re
from decimal import Decimal

import pytest

from cabinet.models import Account, User
from messaging.models import Campaign
from partners import services as partners
from partners.models import Referral, Withdrawal
from staff.models import AuditEntry
from tests.partners.conftest import charge, seed_rates

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_PASSWORD = "staff-pass-123"


def _sign_in(page, email, password="secret-pass-123"):
    page.goto("/login/")
    page.get_by_label("Email для входа").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/$"))


def _staff_page(browser, live_server):
    User.objects.create_superuser(email="staff@example.com", password=STAFF_PASSWORD)
    context = browser.new_context(base_url=live_server.url, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/staff/")
    page.wait_for_url(re.compile(r"/admin/login/"))
    page.locator("#id_username").fill("staff@example.com")
    page.locator("#id_password").fill(STAFF_PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/staff/$"))
    return context, page


def test_referred_client_pays_partner_withdraws_staff_approve(
    page, browser, live_server, make_user
):
    seed_rates()
    partner = make_user("partner@example.com", balance=Decimal("0"))
    code = partners.partner_for(account=partner.account).code

    # The client follows the link, the registration form fails once, then
    # succeeds: the partner is kept.
    page.goto(f"/ref/{code}/")
    page.wait_for_url(re.compile(r"/register/"))
    page.get_by_text("Вы регистрируетесь по приглашению партнёра").wait_for()
    page.get_by_label("Email для входа").fill("client@example.com")
    page.get_by_label("Организация").fill("ООО Клиент")
    page.locator("#id_password1").fill("very-secret-42")
    page.locator("#id_password2").fill("other-secret-42")
    page.get_by_role("button", name="Зарегистрироваться").click()
    page.locator("#id_password1").fill("very-secret-42")
    page.locator("#id_password2").fill("very-secret-42")
    page.get_by_role("button", name="Зарегистрироваться").click()
    page.wait_for_url(re.compile(r"/$"))
    client = User.objects.get(email="client@example.com")
    assert Referral.objects.get(client=client.account).partner_id == partner.account_id

    # The client pays by card, then spends: its campaigns are charged through
    # the ledger (every charging path posts there; 6,000 ₽ of SMS).
    page.goto("/billing/pay/")
    page.locator("#id_card-amount").fill("7000")
    page.locator("#pay-card").get_by_role("button", name="Оплатить").click()
    page.wait_for_url(re.compile(r"/billing/acquirer/"))
    page.get_by_label("Номер карты").fill("4242 4242 4242 4242")
    page.get_by_label("Срок действия (ММ/ГГ)").fill("12/39")
    page.get_by_label("CVC").fill("123")
    page.locator("#acquirer-pay").click()
    page.wait_for_url(re.compile(r"/billing/payments/"))
    page.get_by_text("Баланс пополнен").wait_for()
    charge(client.account_id, "-6000.00", service="sms")

    # The partner sees the client, the reward, and asks for a withdrawal.
    partner_context = browser.new_context(base_url=live_server.url, locale="ru-RU")
    ppage = partner_context.new_page()
    ppage.set_default_timeout(15000)
    _sign_in(ppage, "partner@example.com")
    ppage.goto("/partners/")
    assert ppage.locator("#reward-balance").inner_text().startswith("300,00")
    assert ppage.locator("#clients-count").inner_text() == "1"
    assert code in ppage.locator("#referral-link").input_value()
    ppage.screenshot(path="var/partners_overview.png", full_page=True)
    ppage.goto("/partners/clients/")
    ppage.get_by_text("ООО Клиент").wait_for()
    ppage.goto("/partners/services/")
    ppage.locator("#services-reward").get_by_text("300,00").wait_for()
    ppage.goto("/partners/withdrawals/")
    ppage.locator("#id_amount").fill("300.01")
    ppage.locator("#id_details").fill("Карта 2200 0000 0000 0000")
    ppage.get_by_role("button", name="Вывести").click()
    ppage.get_by_text("Сумма больше доступного вознаграждения").wait_for()
    assert not Withdrawal.objects.exists()
    ppage.locator("#id_amount").fill("300")
    ppage.locator("#id_details").fill("Карта 2200 0000 0000 0000")
    ppage.get_by_role("button", name="Вывести").click()
    ppage.locator("#withdrawals").get_by_text("На рассмотрении").wait_for()
    assert ppage.locator("#reward-balance").inner_text().startswith("0,00")
    ppage.screenshot(path="var/partners_withdrawals.png", full_page=True)

    # Staff approve it in the console.
    staff_context, spage = _staff_page(browser, live_server)
    spage.get_by_role("link", name="Заявки на вывод вознаграждений").click()
    spage.get_by_role("button", name="Взять следующую").click()
    spage.get_by_text("Карта 2200 0000 0000 0000").wait_for()
    spage.screenshot(path="var/staff_withdrawal.png", full_page=True)
    spage.get_by_role("button", name="Одобрить").click()
    spage.get_by_text("Одобрено, клиент уведомлён").wait_for()
    assert Withdrawal.objects.get().status == "approved"
    assert AuditEntry.objects.filter(action="approve").count() == 1

    ppage.reload()
    ppage.locator("#withdrawals").get_by_text("Одобрено").wait_for()
    staff_context.close()
    partner_context.close()


def test_new_accounts_campaign_is_approved_in_the_console(
    page, browser, live_server, make_user
):
    user = make_user("new@example.com", trusted=False)
    _sign_in(page, user.email)
    page.get_by_role("link", name="Отправить СМС").click()
    page.get_by_label("Номера телефонов").fill("8 (916) 123-45-67")
    page.get_by_label("Текст сообщения").fill("Здравствуйте! Ждём вас завтра")
    page.get_by_role("button", name="Отправить сообщение").click()
    page.wait_for_url(re.compile(r"/messages/"))
    campaign = Campaign.objects.get(account=user.account)
    assert campaign.status == "moderation"

    staff_context, spage = _staff_page(browser, live_server)
    spage.locator("[data-queue='messaging.campaignmoderation'] a").click()
    spage.locator("#queue-items").get_by_text(f"Рассылка #{campaign.pk}").wait_for()
    spage.get_by_role("button", name="Взять следующую").click()
    spage.get_by_text("Здравствуйте! Ждём вас завтра").wait_for()
    spage.screenshot(path="var/staff_campaign.png", full_page=True)
    spage.get_by_role("button", name="Одобрить").click()
    spage.get_by_text("Одобрено, клиент уведомлён").wait_for()
    campaign.refresh_from_db()
    assert campaign.status in ("running", "done")
    spage.goto("/staff/")
    spage.screenshot(path="var/staff_index.png", full_page=True)
    spage.goto(f"/staff/accounts/{user.account_id}/")
    spage.locator("#adjust-amount").fill("250")
    spage.locator("#adjust-reason").fill("Компенсация за задержку")
    spage.get_by_role("button", name="Провести").click()
    spage.get_by_text("Баланс скорректирован").wait_for()
    spage.screenshot(path="var/staff_account.png", full_page=True)
    assert AuditEntry.objects.filter(action="balance_adjust").count() == 1
    staff_context.close()

    from cabinet.models import Notification

    notice = Notification.objects.get(account=user.account, kind="moderation")
    page.goto("/notifications/")
    page.get_by_text(notice.title).first.wait_for()
    assert Account.objects.get(pk=user.account_id).balance < Decimal("1250")
