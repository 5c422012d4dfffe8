"""Withdrawals (bad input refused with nothing changed, concurrent requests
safe), the referral link through the registration form, the pages and their
Excel exports."""

import io
import threading
from decimal import Decimal

import pytest
from django.db import connection
from openpyxl import load_workbook

from billing.models import LedgerEntry
from cabinet.models import Account, User
from cabinet.moderation import decide
from partners import services
from partners.models import Referral, Withdrawal
from tests.partners.conftest import charge, seed_rates

pytestmark = pytest.mark.django_db

# Row locks between threads: SQLite's test database serialises whole tables.
POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


@pytest.fixture
def rich_partner(partner_and_client):
    partner, client = partner_and_client
    charge(client.account_id, "-10000.00")  # 5 % → 500 ₽
    assert services.reward_balance(account_id=partner.account_id) == Decimal("500")
    return partner, client


@pytest.mark.parametrize(
    "amount,method,details,message",
    [
        ("299.99", "manual", "карта 2200", "Минимальная сумма вывода — 300"),
        ("500.01", "manual", "карта 2200", "больше доступного"),
        ("abc", "manual", "карта 2200", "числом"),
        ("1e3", "manual", "карта 2200", "больше доступного"),
        ("300.001", "manual", "карта 2200", "до копеек"),
        ("NaN", "manual", "карта 2200", "до копеек"),
        ("-5", "balance", "", "больше нуля"),
        ("0", "balance", "", "больше нуля"),
        ("300", "manual", "", "реквизиты"),
        ("300", "cash", "x", "способ"),
        ("300", "manual", "x" * 301, "300 символов"),
        ("600", "balance", "", "больше доступного"),
    ],
)
def test_bad_withdrawals_are_refused_and_change_nothing(
    rich_partner, amount, method, details, message
):
    partner, _client = rich_partner
    with pytest.raises(services.PartnerError) as err:
        services.withdrawal_request(
            account=partner.account,
            user=partner,
            amount=amount,
            method=method,
            details=details,
        )
    assert message in str(err.value)
    assert not Withdrawal.objects.exists()
    assert services.reward_balance(account_id=partner.account_id) == Decimal("500")


def test_manual_withdrawal_waits_for_staff_and_rejection_returns_it(
    rich_partner, make_user
):
    partner, _client = rich_partner
    row = services.withdrawal_request(
        account=partner.account, user=partner, amount="300", details="карта 2200"
    )
    assert row.status == "pending"
    assert services.reward_balance(account_id=partner.account_id) == Decimal("200")
    staff = User.objects.create_user(email="s@example.com", password="x", is_staff=True)
    decide(item=row, approve=False, reason_text="Неверные реквизиты", staff_user=staff)
    assert services.reward_balance(account_id=partner.account_id) == Decimal("500")
    assert partner.account.notifications.filter(title__contains="отклонена").exists()


def test_move_to_own_balance_is_a_ledger_entry(rich_partner):
    partner, _client = rich_partner
    services.withdrawal_request(
        account=partner.account, user=partner, amount="120.50", method="balance"
    )
    entry = LedgerEntry.objects.get(account_id=partner.account_id, kind="bonus")
    assert entry.amount == Decimal("120.50")
    assert Account.objects.get(pk=partner.account_id).balance == Decimal("120.50")
    assert services.reward_balance(account_id=partner.account_id) == Decimal("379.50")


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_withdrawals_cannot_both_take_the_reward(make_user):
    seed_rates()
    partner = make_user("partner@example.com", balance=Decimal("0"))
    client = make_user("client@example.com", balance=Decimal("100000"))
    services.attribute(
        client=client.account, code=services.partner_for(account=partner.account).code
    )
    charge(client.account_id, "-10000.00")  # 500 ₽ of reward
    barrier = threading.Barrier(4)
    results = []

    def ask():
        try:
            barrier.wait()
            services.withdrawal_request(
                account=partner.account,
                user=partner,
                amount="400",
                details="карта 2200",
            )
            results.append("ok")
        except services.PartnerError as exc:
            results.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    assert Withdrawal.objects.count() == 1
    assert services.reward_balance(account_id=partner.account_id) == Decimal("100")


def test_sign_up_through_the_link_is_attributed(client, make_user, rates):
    partner = make_user("partner@example.com")
    code = services.partner_for(account=partner.account).code
    response = client.get(f"/ref/{code}/")
    assert response.status_code == 302 and response["Location"] == "/register/"
    # The registration form fails once; the cookie keeps the partner.
    form = {
        "email": "new@example.com",
        "organisation": "ООО Новый",
        "full_name": "Новый Клиент",
        "phone": "+79161234567",
        "password1": "Very-secret-pass-42",
        "password2": "Another-pass-42",
        "accept": "on",
    }
    assert client.post("/register/", form).status_code == 200
    form["password2"] = form["password1"]
    response = client.post("/register/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    new = User.objects.get(email="new@example.com")
    assert Referral.objects.get(client=new.account).partner_id == partner.account_id


def test_a_forged_cookie_or_an_unknown_code_attributes_nothing(
    client, make_user, rates
):
    partner = make_user("partner@example.com")
    code = services.partner_for(account=partner.account).code
    client.cookies[services.COOKIE] = code  # unsigned: forged
    response = client.get("/ref/nope/", follow=True)
    assert "Реферальная ссылка недействительна" in response.content.decode()
    assert (
        services.COOKIE not in response.cookies
        or not response.cookies[services.COOKIE].value
    )
    client.post(
        "/register/",
        {
            "email": "new@example.com",
            "organisation": "ООО Новый",
            "full_name": "Новый Клиент",
            "phone": "+79161234567",
            "password1": "Very-secret-pass-42",
            "password2": "Very-secret-pass-42",
            "accept": "on",
        },
    )
    assert User.objects.filter(email="new@example.com").exists()
    assert not Referral.objects.exists()


def test_own_link_is_refused(client_for, make_user, rates):
    partner = make_user("partner@example.com")
    code = services.partner_for(account=partner.account).code
    c = client_for(partner)
    response = c.get(f"/ref/{code}/", follow=True)
    assert "собственная реферальная ссылка" in response.content.decode()
    assert not c.cookies.get(services.COOKIE)


def test_pages_show_the_link_balance_clients_and_services(rich_partner, client_for):
    partner, client = rich_partner
    c = client_for(partner)
    page = c.get("/partners/").content.decode()
    assert services.partner_for(account=partner.account).code in page
    assert "500,00" in page and "Online-чат" in page and "1095" in page
    page = c.get("/partners/clients/").content.decode()
    assert client.account.name in page
    page = c.get("/partners/services/").content.decode()
    assert "500,00 ₽" in page
    response = c.post(
        "/partners/withdrawals/", {"amount": "100", "method": "manual", "details": "x"}
    )
    assert response.status_code == 400
    assert "Минимальная сумма вывода" in response.content.decode()
    response = c.post(
        "/partners/withdrawals/",
        {"amount": "300", "method": "manual", "details": "карта 2200"},
    )
    assert response.status_code == 302
    assert Withdrawal.objects.get().amount == Decimal("300")


def test_excel_exports(rich_partner, client_for):
    partner, client = rich_partner
    c = client_for(partner)
    for url, cell in [
        ("/partners/clients/?format=xlsx", client.account.name),
        ("/partners/services/?format=xlsx", "charge sms"),
    ]:
        response = c.get(url)
        assert response.status_code == 200
        wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        values = [v for row in wb.active.iter_rows(values_only=True) for v in row]
        assert cell in values, values


def test_another_partners_clients_are_not_shown(rich_partner, make_user, client_for):
    _partner, client = rich_partner
    stranger = make_user("stranger@example.com")
    c = client_for(stranger)
    assert client.account.name not in c.get("/partners/clients/").content.decode()
    assert "charge sms" not in c.get("/partners/services/").content.decode()
    assert "0,00" in c.get("/partners/").content.decode()
