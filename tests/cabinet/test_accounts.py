from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from billing.selectors import ledger_sum
from cabinet.models import Account, ApiToken, LoginEvent, User, hash_token

pytestmark = pytest.mark.django_db


def test_registration_creates_account_owner_and_signs_in(client):
    resp = client.post(
        reverse("cabinet:register"),
        {
            "email": "New@Example.com",
            "organisation": "ООО Ромашка",
            "full_name": "Иван",
            "phone": "8 (916) 123-45-67",
            "password1": "long-enough-pw",
            "password2": "long-enough-pw",
        },
    )
    assert resp.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.role == "owner"
    assert user.account.name == "ООО Ромашка"
    assert user.phone == "+79161234567"
    assert client.get(reverse("cabinet:dashboard")).status_code == 200


def test_registration_rejects_duplicate_email_and_mismatched_passwords(client, user):
    resp = client.post(
        reverse("cabinet:register"),
        {
            "email": user.email,
            "password1": "long-enough-pw",
            "password2": "other-pw-123",
        },
    )
    assert resp.status_code == 200
    assert "уже зарегистрирован" in resp.content.decode()
    assert "Пароли не совпадают" in resp.content.decode()
    assert User.objects.count() == 1


def test_sign_in_records_login_history(client, user):
    resp = client.post(
        reverse("cabinet:login"),
        {"username": user.email, "password": "secret-pass-123"},
        HTTP_USER_AGENT="pytest-agent",
        REMOTE_ADDR="10.1.2.3",
    )
    assert resp.status_code == 302
    event = LoginEvent.objects.get(user=user)
    assert event.ip == "10.1.2.3"
    assert event.user_agent == "pytest-agent"
    page = client.get(reverse("cabinet:login_history")).content.decode()
    assert "10.1.2.3" in page


def test_wrong_password_is_refused_in_russian(client, user):
    resp = client.post(
        reverse("cabinet:login"), {"username": user.email, "password": "nope"}
    )
    assert resp.status_code == 200
    assert "Неверный email или пароль" in resp.content.decode()
    assert not LoginEvent.objects.exists()


def test_blocked_account_cannot_sign_in(client, user):
    Account.objects.filter(pk=user.account_id).update(is_blocked=True)
    resp = client.post(
        reverse("cabinet:login"),
        {"username": user.email, "password": "secret-pass-123"},
    )
    assert "заблокирован" in resp.content.decode()


def test_blocked_account_session_is_ended(client, user):
    client.force_login(user)
    Account.objects.filter(pk=user.account_id).update(is_blocked=True)
    resp = client.get(reverse("cabinet:dashboard"))
    assert resp.status_code == 302
    assert reverse("cabinet:login") in resp["Location"]


def test_sign_out(client, user):
    client.force_login(user)
    client.post(reverse("cabinet:logout"))
    assert client.get(reverse("cabinet:dashboard")).status_code == 302


def test_password_change(client, user):
    client.force_login(user)
    resp = client.post(
        reverse("cabinet:password_change"),
        {
            "old_password": "secret-pass-123",
            "new_password1": "brand-new-pass-1",
            "new_password2": "brand-new-pass-1",
        },
    )
    assert resp.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-1")


def test_password_reset_sends_a_working_link(client, user):
    client.post(reverse("cabinet:password_reset"), {"email": user.email})
    assert len(mail.outbox) == 1
    link = next(
        line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line
    )
    path = link.split("testserver", 1)[1]
    resp = client.get(path, follow=True)
    form_url = resp.redirect_chain[-1][0]
    resp = client.post(
        form_url, {"new_password1": "reset-pass-456", "new_password2": "reset-pass-456"}
    )
    assert resp.status_code == 302
    user.refresh_from_db()
    assert user.check_password("reset-pass-456")


def test_create_account_command_prints_token_last(capsys):
    call_command(
        "create_account",
        "cli@example.com",
        "--password",
        "pw-12345678",
        "--balance",
        "250.50",
        "--token",
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].endswith("created for cli@example.com, balance 250.50 RUB")
    key = out[-1]
    token = ApiToken.objects.get(key_hash=hash_token(key))
    assert set(token.scopes) == {"messaging", "chat", "cabinet"}
    account = token.account
    assert account.balance == Decimal("250.50")
    assert ledger_sum(account_id=account.pk) == account.balance


def test_an_opening_balance_is_a_ledger_credit_posted_by_billing():
    from billing.models import LedgerEntry
    from cabinet.services import account_create

    user = account_create(
        email="open@example.com", password="pw-12345678", balance=Decimal("75")
    )
    entry = LedgerEntry.objects.get(account_id=user.account_id)
    assert (entry.kind, entry.reference, entry.amount) == (
        "topup",
        "initial",
        Decimal("75.00"),
    )
    assert Account.objects.get(pk=user.account_id).balance == Decimal("75.00")
    # No balance asked, no entry.
    bare = account_create(email="bare@example.com", password="pw-12345678")
    assert not LedgerEntry.objects.filter(account_id=bare.account_id).exists()


def test_an_opening_balance_nobody_takes_undoes_the_account():
    """cabinet.signals.account_created is how the balance reaches billing; with
    no receiver the money would silently vanish, so the creation fails whole."""
    from django.core.exceptions import ImproperlyConfigured

    from billing.receivers import credit_opening_balance
    from cabinet.services import account_create
    from cabinet.signals import account_created

    assert account_created.disconnect(dispatch_uid="billing.opening_balance")
    try:
        with pytest.raises(ImproperlyConfigured, match="opening balance"):
            account_create(
                email="lost@example.com", password="pw-12345678", balance=Decimal("5")
            )
        assert not User.objects.filter(email="lost@example.com").exists()
        assert not Account.objects.filter(name="lost@example.com").exists()
    finally:
        account_created.connect(
            credit_opening_balance, dispatch_uid="billing.opening_balance"
        )


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    call_command("seed_demo")
    user = User.objects.get(email="demo@example.com")
    assert user.check_password("demo12345")
    assert user.account.balance == Decimal("1000")
    assert user.account.groups.count() >= 2
    # Groups show their contacts (sizes are counted, not left at zero).
    for group in user.account.groups.all():
        assert group.size == group.contacts.count()
    assert sum(g.size for g in user.account.groups.all()) > 0


def test_menu_lists_every_section_and_unbuilt_pages_say_in_development(client, user):
    client.force_login(user)
    page = client.get(reverse("cabinet:dashboard")).content.decode()
    for label in (
        "Контакты",
        "Рассылка СМС",
        "Голосовая рассылка",
        "Рассылка Viber",
        "Рассылки ВК и ОК",
        "Сценарии",
        "Партнерство",
        "События",
        "CallPassword",
        "SMS-реклама",
        "Online-чат",
    ):
        assert label in page
    resp = client.get(reverse("cabinet:in_development", args=["partners-overview"]))
    assert resp.status_code == 200
    assert "в разработке" in resp.content.decode()
    assert (
        client.get(reverse("cabinet:in_development", args=["nope"])).status_code == 404
    )


def test_every_menu_link_answers(client, user):
    from cabinet.menu import MENU

    client.force_login(user)
    for section in MENU:
        for item in section.items:
            resp = client.get(item.href())
            assert resp.status_code in (200, 302), (item.slug, resp.status_code)


def test_english_is_available(client, user):
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("cabinet:dashboard")).content.decode()
    assert 'lang="en"' in page


def test_healthz_reports_database_and_broker(client):
    resp = client.get("/healthz")
    body = resp.json()
    assert body["database"] == "ok"
    assert "broker" in body


def test_the_header_names_the_account_once(client_for, user):
    from cabinet.models import Account

    page = client_for(user).get("/").content.decode()
    header = page.split('<header class="top">')[1].split("</header>")[0]
    assert header.count(user.email) == 1
    Account.objects.filter(pk=user.account_id).update(name="ООО Ромашка")
    header = (
        client_for(user)
        .get("/")
        .content.decode()
        .split('<header class="top">')[1]
        .split("</header>")[0]
    )
    assert "ООО Ромашка" in header and header.count(user.email) == 1


def test_all_messages_page_highlights_the_sms_reports_menu_item(client_for, user):
    page = client_for(user).get("/messages/").content.decode()
    assert 'data-slug="sms-reports" class="active"' in page


@pytest.mark.parametrize("balance", ["NaN", "Infinity", "-1", "abc"])
def test_create_account_refuses_a_balance_that_is_no_amount(balance):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command(
            "create_account",
            "bad@example.com",
            "--password",
            "pw-12345678",
            "--balance",
            balance,
        )
    assert not User.objects.filter(email="bad@example.com").exists()
