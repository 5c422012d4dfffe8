"""Finance journeys in a real browser: pay by card through the fake acquirer,
issue an invoice and open its PDF, the tariffs slider, the notification
centre, settings and support."""

import re
from decimal import Decimal

import pytest

from billing.models import Payment, Requisites
from cabinet.models import Account
from tests.billing.conftest import VALID_REQUISITES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, email, password="secret-pass-123"):
    page.goto("/login/")
    page.get_by_label("Email для входа").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/$"))


def test_pay_by_card_through_the_fake_acquirer(page, make_user):
    user = make_user("payer@example.com", balance=Decimal("1000"))
    _sign_in(page, user.email)
    page.goto("/billing/pay/")
    page.screenshot(path="var/billing_pay.png", full_page=True)
    page.locator("#id_card-amount").fill("750")
    page.locator("#pay-card").get_by_role("button", name="Оплатить").click()
    page.wait_for_url(re.compile(r"/billing/acquirer/"))
    page.get_by_label("Номер карты").fill("4242 4242 4242 4242")
    page.get_by_label("Срок действия (ММ/ГГ)").fill("12/39")
    page.get_by_label("CVC").fill("123")
    page.screenshot(path="var/billing_acquirer.png", full_page=True)
    page.locator("#acquirer-pay").click()
    page.wait_for_url(re.compile(r"/billing/payments/"))
    page.get_by_text("Баланс пополнен").wait_for()
    page.screenshot(path="var/billing_payment_done.png", full_page=True)
    assert page.locator("#header-balance").inner_text().startswith("1750")
    assert Payment.objects.get().status == "succeeded"
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1750.00")

    # The payment is in the money movement and in the notification centre.
    page.goto("/billing/ledger/")
    page.get_by_text("Оплата банковской картой").first.wait_for()
    page.screenshot(path="var/billing_ledger.png", full_page=True)
    page.locator("a.bell").click()
    page.locator("#notif-panel").get_by_text("Баланс пополнен на 750").wait_for()
    page.screenshot(path="var/billing_notifications.png")
    page.locator("#notif-mark-read").click()
    page.locator("#unread-count").wait_for(state="detached")


def _seed_tariffs():
    # Transactional tests flush the database, seeded migrations included.
    from billing.models import Tariff, TariffTier

    for tier, threshold, price in (
        (0, "0", "2.77"),
        (1, "11100", "2.57"),
        (2, "30400", "2.37"),
        (3, "100000", "2.17"),
    ):
        TariffTier.objects.get_or_create(
            tier=tier, defaults={"min_balance": Decimal(threshold)}
        )
        Tariff.objects.get_or_create(
            channel="sms",
            country="RU",
            operator="",
            tier=tier,
            defaults={"price": Decimal(price)},
        )
        Tariff.objects.get_or_create(
            channel="sms",
            country="RU",
            operator="МТС",
            tier=tier,
            defaults={"price": Decimal(price) - Decimal("0.02")},
        )


def test_invoice_tariffs_documents_settings_and_support(page, make_user):
    _seed_tariffs()
    user = make_user("docs@example.com", balance=Decimal("12000"))
    Requisites.objects.create(account=user.account, **VALID_REQUISITES)
    _sign_in(page, user.email)
    page.goto("/billing/pay/")
    page.locator("#id_invoice-amount").fill("20000")
    page.locator("#pay-invoice").get_by_role("button", name="Выставить счёт").click()
    page.locator(".messages li.success").wait_for()
    page.goto("/billing/documents/")
    page.screenshot(path="var/billing_documents.png", full_page=True)
    pdf = page.request.get(
        page.get_by_role("link", name="Скачать").first.get_attribute("href")
    )
    assert pdf.headers["content-type"] == "application/pdf"
    with open("var/billing_invoice.pdf", "wb") as fh:
        fh.write(pdf.body())

    page.goto("/billing/tariffs/")
    page.get_by_text("от 11100 руб до 30400 руб").wait_for()
    page.locator("#balance-input").fill("50000")
    page.locator("#balance-input").dispatch_event("change")
    page.get_by_text("от 30400 руб до 100000 руб").wait_for()
    page.screenshot(path="var/billing_tariffs.png", full_page=True)

    page.goto("/billing/services/")
    page.screenshot(path="var/billing_services.png", full_page=True)
    page.goto("/billing/documents/requisites/")
    page.screenshot(path="var/billing_requisites.png", full_page=True)
    page.goto("/settings/users/")
    page.screenshot(path="var/settings_users.png", full_page=True)
    page.goto("/settings/security/")
    page.screenshot(path="var/settings_security.png", full_page=True)

    page.goto("/support/")
    page.locator("#new-ticket-btn").click()
    page.get_by_label("Тема").fill("Вопрос по счёту")
    page.get_by_label("Ваш вопрос").fill("Когда зачислится оплата?")
    page.get_by_role("button", name="Отправить").click()
    page.wait_for_url(re.compile(r"/support/\d+/"))
    page.get_by_text("Когда зачислится оплата?").wait_for()
    page.screenshot(path="var/support_ticket.png", full_page=True)
