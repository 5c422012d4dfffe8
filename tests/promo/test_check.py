"""The check/redeem service shared by the check page and the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from promo.models import PromoCode
from promo.services import (
    PromoError,
    PromoThrottled,
    manager_authenticate,
    promo_code_check,
    promo_code_redeem,
)

pytestmark = pytest.mark.django_db


def test_a_fresh_code_is_valid_with_the_instruction(action, issue_codes):
    (code,) = issue_codes(action)
    result = promo_code_check(account_id=action.account_id, code=code.lower())
    assert result.status == "valid"
    assert result.instruction == "Выдайте скидку 10% на весь чек."
    assert result.valid_until > timezone.now() + timedelta(days=29)


def test_redeem_marks_it_used_once(action, issue_codes, make_manager):
    (code,) = issue_codes(action)
    clerk = make_manager(action.account)
    first = promo_code_redeem(account_id=action.account_id, code=code, manager=clerk)
    assert first.redeemed and first.status == "used" and first.used_by == "Анна"
    second = promo_code_redeem(account_id=action.account_id, code=code, manager=clerk)
    assert not second.redeemed and second.status == "used"
    assert second.used_at == first.used_at
    stored = PromoCode.objects.get(code=code)
    assert stored.used_by_id == clerk.pk and stored.used_by_name == "Анна"


def test_an_expired_code_cannot_be_redeemed(action, issue_codes):
    (code,) = issue_codes(action)
    PromoCode.objects.filter(code=code).update(
        issued_at=timezone.now() - timedelta(days=31)
    )
    assert promo_code_check(account_id=action.account_id, code=code).status == "expired"
    result = promo_code_redeem(account_id=action.account_id, code=code)
    assert result.status == "expired" and not result.redeemed
    assert PromoCode.objects.get(code=code).used_at is None


def test_a_code_of_an_action_not_started_yet_is_not_valid(
    user, make_action, issue_codes
):
    later = make_action(user.account, starts_at=timezone.now() + timedelta(days=2))
    (code,) = issue_codes(later)
    result = promo_code_check(account_id=user.account_id, code=code)
    assert result.status == "not_started"
    assert not promo_code_redeem(account_id=user.account_id, code=code).redeemed


def test_another_accounts_code_is_unknown(action, issue_codes, other_user):
    (code,) = issue_codes(action)
    result = promo_code_check(account_id=other_user.account_id, code=code)
    assert result.status == "unknown" and result.instruction == ""
    assert not promo_code_redeem(account_id=other_user.account_id, code=code).redeemed
    assert PromoCode.objects.get(code=code).used_at is None


def test_guessing_is_throttled_per_manager(action, issue_codes, make_manager, settings):
    (code,) = issue_codes(action)
    clerk = make_manager(action.account)
    limit = settings.PROMO_CHECK_FAILURES_PER_MANAGER
    for i in range(limit):
        guess = promo_code_check(
            account_id=action.account_id,
            code=f"ZZZZ{i:02d}"[:6],
            manager_id=clerk.pk,
            ip="10.0.0.1",
        )
        assert guess.status == "unknown"
    with pytest.raises(PromoThrottled) as exc:
        promo_code_check(
            account_id=action.account_id, code=code, manager_id=clerk.pk, ip="10.0.0.2"
        )
    assert "Слишком много неудачных попыток" in exc.value.message
    # Another manager of the account on another IP is not affected.
    other = make_manager(action.account, login="clerk2")
    assert (
        promo_code_check(
            account_id=action.account_id, code=code, manager_id=other.pk, ip="10.0.0.3"
        ).status
        == "valid"
    )


def test_guessing_is_throttled_per_ip(action, issue_codes, make_manager, settings):
    settings.PROMO_CHECK_FAILURES_PER_IP = 4
    clerks = [make_manager(action.account, login=f"c{i}") for i in range(4)]
    for clerk in clerks:
        promo_code_check(
            account_id=action.account_id,
            code="ABCDEF",
            manager_id=clerk.pk,
            ip="10.9.9.9",
        )
    fresh = make_manager(action.account, login="fresh")
    with pytest.raises(PromoThrottled):
        promo_code_check(
            account_id=action.account_id,
            code="ABCDEF",
            manager_id=fresh.pk,
            ip="10.9.9.9",
        )


def test_sign_in_checks_the_hashed_password_and_is_throttled(
    user, make_manager, settings
):
    clerk = make_manager(user.account, login="Anna", password="pass-123456")
    assert clerk.login == "anna" and "pass-123456" not in clerk.password
    assert manager_authenticate(login="ANNA", password="pass-123456").pk == clerk.pk
    for _ in range(settings.PROMO_LOGIN_FAILURES_PER_LOGIN):
        with pytest.raises(PromoError) as exc:
            manager_authenticate(login="anna", password="wrong", ip="10.1.1.1")
        assert exc.value.message == "Неверный логин или пароль."
    with pytest.raises(PromoThrottled):
        manager_authenticate(login="anna", password="pass-123456", ip="10.1.1.2")


def test_a_login_is_unique_across_accounts(user, other_user, make_manager):
    make_manager(user.account, login="shop")
    with pytest.raises(PromoError) as exc:
        make_manager(other_user.account, login="SHOP")
    assert "уже занят" in exc.value.message


def test_a_blocked_accounts_manager_cannot_sign_in(user, make_manager):
    make_manager(user.account, login="anna", password="pass-123456")
    user.account.is_blocked = True
    user.account.save()
    with pytest.raises(PromoError):
        manager_authenticate(login="anna", password="pass-123456")
