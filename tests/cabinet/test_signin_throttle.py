"""Sign-in brute force: 100 wrong passwords in 26 s were all answered, then the
right one accepted.  Failures are now limited per account and per address,
with back-off, on the password step and the two-step code step — and a locked
account answers the same whatever the password, so the lock reveals nothing."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from cabinet import security
from cabinet.models import User
from messaging.models import Message

pytestmark = pytest.mark.django_db
PASSWORD = "secret-pass-123"


def _sign_in(client, email, password, ip="10.0.0.1"):
    return client.post(
        reverse("cabinet:login"),
        {"username": email, "password": password},
        REMOTE_ADDR=ip,
    )


def _signed_in(client) -> bool:
    return client.get(reverse("cabinet:dashboard")).status_code == 200


def test_wrong_passwords_lock_the_account_and_the_lock_tells_nothing(
    client, user, make_user, settings
):
    for i in range(settings.SIGNIN_FAILURES_PER_ACCOUNT):
        resp = _sign_in(client, user.email, f"wrong-{i}", ip=f"10.0.0.{i}")
        assert resp.status_code == 200
        assert "Неверный email или пароль" in resp.content.decode()
    right = _sign_in(client, user.email, PASSWORD, ip="10.9.9.9")
    wrong = _sign_in(client, user.email, "wrong-again", ip="10.9.9.8")
    assert right.status_code == wrong.status_code == 429
    message = "Слишком много неудачных попыток входа. Повторите через 15 мин."
    assert message in right.content.decode() and message in wrong.content.decode()
    assert "Неверный email или пароль" not in right.content.decode()
    assert not _signed_in(client)
    # Another account from the same address is not affected.
    other = make_user("b@example.com")
    _sign_in(client, other.email, PASSWORD, ip="10.9.9.9")
    assert _signed_in(client)


def test_an_unknown_email_is_locked_the_same_way(client, db, settings):
    for i in range(settings.SIGNIN_FAILURES_PER_ACCOUNT):
        _sign_in(client, "nobody@example.com", f"wrong-{i}", ip=f"10.0.1.{i}")
    resp = _sign_in(client, "NOBODY@example.com", "x", ip="10.0.1.99")
    assert resp.status_code == 429


def test_one_address_is_limited_across_accounts(client, user, settings):
    settings.SIGNIN_FAILURES_PER_IP = 6
    for i in range(6):
        _sign_in(client, f"guess{i}@example.com", "wrong", ip="10.7.7.7")
    assert _sign_in(client, user.email, PASSWORD, ip="10.7.7.7").status_code == 429
    assert not _signed_in(client)
    assert _sign_in(client, user.email, PASSWORD, ip="10.7.7.8").status_code == 302
    assert _signed_in(client)


def test_a_right_password_clears_the_accounts_failures(client, user, settings):
    n = settings.SIGNIN_FAILURES_PER_ACCOUNT
    for _round in range(3):
        for i in range(n - 1):
            _sign_in(client, user.email, f"wrong-{i}")
        assert _sign_in(client, user.email, PASSWORD).status_code == 302
        client.logout()


def test_each_lock_of_the_day_lasts_twice_as_long(client, user, settings):
    limits = security.signin_limits(step="password", who=user.email, ip=None)
    shown = []
    for _round in range(3):
        for i in range(settings.SIGNIN_FAILURES_PER_ACCOUNT):
            _sign_in(client, user.email, f"wrong-{i}", ip=f"10.4.{_round}.{i}")
        body = _sign_in(client, user.email, PASSWORD, ip="10.4.9.9").content.decode()
        shown.append(int(re.search(r"Повторите через (\d+) мин", body).group(1)))
        cache.delete(limits[0].key)  # the lock has run out
    assert shown == [15, 30, 60]


@pytest.fixture
def two_factor_user(user):
    User.objects.filter(pk=user.pk).update(two_factor=True, phone="+79161234567")
    user.refresh_from_db()
    return user


def _last_code() -> str:
    text = Message.objects.filter(phone="+79161234567").latest("id").text
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_wrong_codes_are_limited_per_user_across_codes(
    client, two_factor_user, settings
):
    limit = settings.SIGNIN_CODE_FAILURES_PER_USER
    wrong = 0
    while wrong < limit:
        # A fresh code (up to LOGIN_CODE_RATE per window) for each few guesses.
        _sign_in(client, two_factor_user.email, PASSWORD, ip=f"10.5.0.{wrong}")
        code = _last_code()
        for _ in range(min(settings.LOGIN_CODE_MAX_ATTEMPTS, limit - wrong)):
            bad = f"{(int(code) + 1) % 10**6:06d}"
            resp = client.post(
                reverse("cabinet:login_code"), {"code": bad}, REMOTE_ADDR="10.5.1.1"
            )
            assert resp.status_code == 400
            wrong += 1
    resp = client.post(
        reverse("cabinet:login_code"), {"code": code}, REMOTE_ADDR="10.5.1.2"
    )
    assert resp.status_code == 429
    assert "Слишком много неудачных попыток входа" in resp.content.decode()
    assert not _signed_in(client)
