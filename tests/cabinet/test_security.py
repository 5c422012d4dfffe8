"""Two-step sign-in by SMS code, IP allow-list, session bound to its IP, and a
blocked account end to end."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cabinet.models import Account, LoginCode, LoginEvent, User
from cabinet.security import CodeError, login_code_send
from messaging.models import Message

pytestmark = pytest.mark.django_db
PASSWORD = "secret-pass-123"


@pytest.fixture
def two_factor_user(user):
    User.objects.filter(pk=user.pk).update(two_factor=True, phone="+79161234567")
    user.refresh_from_db()
    return user


def _last_code(phone="+79161234567") -> str:
    text = Message.objects.filter(phone=phone).latest("id").text
    return re.search(r"\b(\d{6})\b", text).group(1)


def _sign_in(client, user, **extra):
    return client.post(
        reverse("cabinet:login"),
        {"username": user.email, "password": PASSWORD},
        **extra,
    )


def test_two_step_sign_in_sends_a_free_sms_and_accepts_the_code_once(
    client, two_factor_user
):
    balance = Account.objects.get(pk=two_factor_user.account_id).balance
    resp = _sign_in(client, two_factor_user)
    assert resp["Location"] == reverse("cabinet:login_code")
    assert (
        client.get(reverse("cabinet:dashboard")).status_code == 302
    )  # not signed in yet
    code = _last_code()
    message = Message.objects.get(phone="+79161234567")
    assert message.price == 0
    assert Account.objects.get(pk=two_factor_user.account_id).balance == balance
    row = LoginCode.objects.get(user=two_factor_user)
    assert code not in row.code_hash  # stored hashed
    resp = client.post(reverse("cabinet:login_code"), {"code": code})
    assert resp.status_code == 302
    assert client.get(reverse("cabinet:dashboard")).status_code == 200
    assert LoginEvent.objects.filter(user=two_factor_user).count() == 1
    # Single use: the same code cannot open a second session.
    client.post(reverse("cabinet:logout"))
    _sign_in(client, two_factor_user)
    resp = client.post(reverse("cabinet:login_code"), {"code": code})
    assert resp.status_code == 400 and "Неверный код" in resp.content.decode()


def test_wrong_codes_are_limited(client, two_factor_user):
    _sign_in(client, two_factor_user)
    code = _last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        resp = client.post(reverse("cabinet:login_code"), {"code": wrong})
        assert resp.status_code == 400
    resp = client.post(reverse("cabinet:login_code"), {"code": code})
    assert "Превышено число попыток" in resp.content.decode()
    assert client.get(reverse("cabinet:dashboard")).status_code == 302


def test_an_expired_code_is_refused(client, two_factor_user):
    _sign_in(client, two_factor_user)
    code = _last_code()
    LoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    resp = client.post(reverse("cabinet:login_code"), {"code": code})
    assert "Срок действия кода истёк" in resp.content.decode()


def test_codes_are_rate_limited(two_factor_user):
    for _ in range(3):
        login_code_send(user=two_factor_user)
    with pytest.raises(CodeError, match="Слишком много запросов"):
        login_code_send(user=two_factor_user)
    assert LoginCode.objects.count() == 3


def test_resend_replaces_the_previous_code(client, two_factor_user):
    _sign_in(client, two_factor_user)
    first = _last_code()
    client.post(reverse("cabinet:login_code"), {"resend": "1"})
    second = _last_code()
    if first != second:
        resp = client.post(reverse("cabinet:login_code"), {"code": first})
        assert resp.status_code == 400
    resp = client.post(reverse("cabinet:login_code"), {"code": second})
    assert resp.status_code == 302


def test_code_page_without_a_password_step_sends_to_login(client):
    resp = client.get(reverse("cabinet:login_code"))
    assert resp["Location"] == reverse("cabinet:login")


def test_owner_turns_two_step_on_in_security_settings(client_for, user):
    client = client_for(user)
    resp = client.post(reverse("cabinet:security"), {"two_factor": "on", "phone": ""})
    assert resp.status_code == 400 and "Укажите телефон" in resp.content.decode()
    resp = client.post(
        reverse("cabinet:security"), {"two_factor": "on", "phone": "8 916 123-45-67"}
    )
    assert resp.status_code == 302
    user.refresh_from_db()
    assert user.two_factor and user.phone == "+79161234567"


def test_sign_in_only_from_listed_ips(client, user):
    Account.objects.filter(pk=user.account_id).update(
        allowed_ips="10.0.0.0/8\n192.0.2.1"
    )
    resp = _sign_in(client, user, REMOTE_ADDR="203.0.113.5")
    assert resp.status_code == 200
    assert "с этого IP-адреса запрещён" in resp.content.decode()
    assert _sign_in(client, user, REMOTE_ADDR="10.20.30.40").status_code == 302


def test_a_session_from_an_unlisted_ip_is_ended(client_for, user):
    client = client_for(user)
    assert (
        client.get(reverse("cabinet:dashboard"), REMOTE_ADDR="198.51.100.1").status_code
        == 200
    )
    Account.objects.filter(pk=user.account_id).update(allowed_ips="10.0.0.1")
    resp = client.get(reverse("cabinet:dashboard"), REMOTE_ADDR="198.51.100.1")
    assert resp["Location"] == reverse("cabinet:login")
    assert (
        client.get(reverse("cabinet:dashboard"), REMOTE_ADDR="10.0.0.1").status_code
        == 302
    )


def test_the_session_ends_when_its_ip_changes(client, user):
    Account.objects.filter(pk=user.account_id).update(bind_session_ip=True)
    _sign_in(client, user, REMOTE_ADDR="10.0.0.1")
    assert (
        client.get(reverse("cabinet:dashboard"), REMOTE_ADDR="10.0.0.1").status_code
        == 200
    )
    resp = client.get(reverse("cabinet:dashboard"), REMOTE_ADDR="10.0.0.2")
    assert resp["Location"] == reverse("cabinet:login")
    assert (
        client.get(reverse("cabinet:dashboard"), REMOTE_ADDR="10.0.0.1").status_code
        == 302
    )


def test_without_binding_an_ip_change_keeps_the_session(client, user):
    _sign_in(client, user, REMOTE_ADDR="10.0.0.1")
    assert (
        client.get(reverse("cabinet:dashboard"), REMOTE_ADDR="10.0.0.2").status_code
        == 200
    )


def test_the_owner_cannot_lock_themselves_out(client_for, user):
    client = client_for(user)
    resp = client.post(
        reverse("cabinet:security"),
        {"allowed_ips": "10.9.9.9", "bind_session_ip": "on"},
        REMOTE_ADDR="10.0.0.1",
    )
    assert resp.status_code == 400 and "потеряете доступ" in resp.content.decode()
    assert Account.objects.get(pk=user.account_id).allowed_ips == ""
    resp = client.post(
        reverse("cabinet:security"),
        {"allowed_ips": "10.0.0.0/24\nнеадрес"},
        REMOTE_ADDR="10.0.0.1",
    )
    assert "не IP-адрес" in resp.content.decode()
    resp = client.post(
        reverse("cabinet:security"),
        {"allowed_ips": "10.0.0.0/24", "bind_session_ip": "on"},
        REMOTE_ADDR="10.0.0.1",
    )
    assert resp.status_code == 302
    account = Account.objects.get(pk=user.account_id)
    assert account.allowed_ips == "10.0.0.0/24" and account.bind_session_ip


def test_an_admin_cannot_change_account_ip_rules(make_user, client_for, user):
    admin = make_user(account=user.account, role="admin")
    client_for(admin).post(
        reverse("cabinet:security"),
        {"allowed_ips": "10.0.0.0/8", "bind_session_ip": "on"},
    )
    assert Account.objects.get(pk=user.account_id).allowed_ips == ""


def test_a_blocked_account_cannot_sign_in_send_or_use_tokens(
    client, make_user, user, staff_user, api_client_for
):
    api = api_client_for(user)
    client.force_login(user)
    assert client.get(reverse("cabinet:dashboard")).status_code == 200
    # Staff block the account in the admin.
    staff_client = type(client)()
    staff_client.force_login(staff_user)
    resp = staff_client.post(
        reverse("admin:cabinet_account_changelist"),
        {"action": "block_accounts", "_selected_action": [user.account_id]},
    )
    assert resp.status_code == 302
    account = Account.objects.get(pk=user.account_id)
    assert account.is_blocked
    # The open session is ended, a new sign-in is refused, the token stops.
    assert client.get(reverse("cabinet:dashboard"))["Location"] == reverse(
        "cabinet:login"
    )
    assert "заблокирован" in _sign_in(client, user).content.decode()
    assert api.get("/api/v1/balance/").status_code in (401, 403)
    from messaging.services import LaunchError, campaign_launch

    with pytest.raises(LaunchError):
        campaign_launch(
            account=account, channel="sms", text="x", phones=["+79161234567"]
        )
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1000.00")
    # Unblocking restores access.
    staff_client.post(
        reverse("admin:cabinet_account_changelist"),
        {"action": "unblock_accounts", "_selected_action": [user.account_id]},
    )
    assert api.get("/api/v1/balance/").status_code == 200


@pytest.fixture
def staff_user(db):
    return User.objects.create_superuser(
        email="admin@example.com", password="staff-pass-1"
    )
