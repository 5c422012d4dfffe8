"""Cabinet pages (Промо-акции, Менеджеры) and the separate check page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from promo.models import PromoAction, PromoCode, PromoManager

pytestmark = pytest.mark.django_db


def test_the_actions_page_creates_an_action(user, client_for):
    client = client_for(user)
    page = client.get(reverse("promo:actions"))
    assert page.status_code == 200
    assert "Пока не создано ни одной акции" in page.content.decode()
    response = client.post(
        reverse("promo:actions"),
        {
            "name": "Чёрная пятница",
            "valid_days": 14,
            "code_length": 8,
            "instruction": "Скидка 20%",
            "reminder_after_days": 3,
            "reminder_every_days": 7,
            "reminder_count": 1,
        },
    )
    assert response.status_code == 302
    action = PromoAction.objects.get(account=user.account)
    assert (action.name, action.valid_days, action.code_length) == (
        "Чёрная пятница",
        14,
        8,
    )
    assert action.starts_at is None
    assert "Чёрная пятница" in client.get(reverse("promo:actions")).content.decode()


def test_a_bad_action_is_refused_in_russian_and_nothing_is_saved(user, client_for):
    client = client_for(user)
    response = client.post(
        reverse("promo:actions"),
        {
            "name": "",
            "valid_days": 0,
            "code_length": 3,
            "reminders_enabled": "on",
            "reminder_after_days": 3,
            "reminder_every_days": 7,
            "reminder_count": 1,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Обязательное поле" in body
    assert "Введите текст напоминания" in body
    assert "data-open" in body  # the dialog re-opens with the errors
    assert not PromoAction.objects.exists()


def test_the_action_page_shows_its_report(
    user, client_for, action, issue_codes, make_manager, django_assert_max_num_queries
):
    from promo.services import promo_code_redeem

    codes = issue_codes(action, 60)
    promo_code_redeem(
        account_id=user.account_id, code=codes[0], manager=make_manager(user.account)
    )
    client = client_for(user)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("promo:action_detail", args=[action.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="stat-sent">60<' in body and 'id="stat-redeemed">1<' in body
    assert codes[0] in body or "Страница 1 из 2" in body
    with django_assert_max_num_queries(14):
        listing = client.get(reverse("promo:actions"))
    assert "1.7 %" in listing.content.decode() or "1,7 %" in listing.content.decode()


def test_a_foreign_action_is_404(action, other_user, client_for):
    client = client_for(other_user)
    assert (
        client.get(reverse("promo:action_detail", args=[action.pk])).status_code == 404
    )
    response = client.post(
        reverse("promo:action_detail", args=[action.pk]),
        {
            "name": "hijack",
            "valid_days": 1,
            "code_length": 6,
            "reminder_after_days": 1,
            "reminder_every_days": 1,
            "reminder_count": 1,
        },
    )
    assert response.status_code == 404
    assert (
        client.post(reverse("promo:action_toggle", args=[action.pk])).status_code == 404
    )
    action.refresh_from_db()
    assert action.name == "Скидка 10%" and action.is_active
    assert "Скидка 10%" not in client.get(reverse("promo:actions")).content.decode()


def test_code_length_is_locked_once_codes_were_sent(
    user, client_for, action, issue_codes
):
    issue_codes(action)
    response = client_for(user).post(
        reverse("promo:action_detail", args=[action.pk]),
        {
            "name": action.name,
            "valid_days": 30,
            "code_length": 9,
            "reminder_after_days": 3,
            "reminder_every_days": 7,
            "reminder_count": 1,
        },
    )
    assert "Длину кода нельзя изменить" in response.content.decode()
    action.refresh_from_db()
    assert action.code_length == 6


def test_managers_page_adds_and_removes_a_manager(user, client_for):
    client = client_for(user)
    assert "Нет данных" in client.get(reverse("promo:managers")).content.decode()
    response = client.post(
        reverse("promo:managers"),
        {"name": "Анна", "login": "anna", "password": "secret-1"},
    )
    assert response.status_code == 302
    manager = PromoManager.objects.get(account=user.account)
    assert manager.check_password("secret-1")
    body = client.get(reverse("promo:managers")).content.decode()
    assert "anna" in body and "secret-1" not in body
    client.post(reverse("promo:manager_remove", args=[manager.pk]))
    assert not PromoManager.objects.exists()


def test_a_taken_login_is_refused(user, other_user, client_for, make_manager):
    make_manager(other_user.account, login="anna")
    response = client_for(user).post(
        reverse("promo:managers"),
        {"name": "Анна", "login": "anna", "password": "secret-1"},
    )
    assert "уже занят" in response.content.decode()
    assert PromoManager.objects.count() == 1


def test_a_foreign_manager_cannot_be_removed(
    user, other_user, client_for, make_manager
):
    manager = make_manager(user.account)
    response = client_for(other_user).post(
        reverse("promo:manager_remove", args=[manager.pk])
    )
    assert response.status_code == 404
    assert PromoManager.objects.filter(pk=manager.pk).exists()


def test_a_read_only_user_cannot_add_managers(user, make_user, client_for):
    reader = make_user("reader@example.com", account=user.account, role="readonly")
    response = client_for(reader).post(
        reverse("promo:managers"), {"name": "X", "login": "x", "password": "secret-1"}
    )
    assert response.status_code == 403
    assert not PromoManager.objects.exists()


# --- the check page ------------------------------------------------------------------


def sign_in(client, login="clerk", password="clerk-pass-1"):
    return client.post(
        reverse("promo:check_login"), {"login": login, "password": password}
    )


def test_the_check_page_asks_a_manager_to_sign_in(client):
    body = client.get(reverse("promo:check")).content.decode()
    for label in (
        "Сервис проверки промокодов",
        "Авторизация",
        "Логин:",
        "Пароль:",
        "Войти",
    ):
        assert label in body
    assert 'class="side"' not in body  # not the cabinet layout


def test_a_manager_checks_and_redeems_a_code(client, action, issue_codes, make_manager):
    (code,) = issue_codes(action)
    make_manager(action.account)
    assert sign_in(client).status_code == 302
    body = client.post(reverse("promo:check"), {"code": code.lower()}).content.decode()
    assert "Промокод действителен" in body and "Выдайте скидку 10%" in body
    body = client.post(reverse("promo:check_redeem"), {"code": code}).content.decode()
    assert "отмечен как использованный" in body
    body = client.post(reverse("promo:check"), {"code": code}).content.decode()
    assert "Промокод уже использован" in body and "Анна" in body
    assert PromoCode.objects.get(code=code).used_at is not None


def test_a_wrong_password_is_refused(client, user, make_manager):
    make_manager(user.account)
    response = sign_in(client, password="nope")
    assert "Неверный логин или пароль" in response.content.decode()
    assert (
        client.post(reverse("promo:check"), {"code": "ABCDEF"})
        .content.decode()
        .count("Авторизация")
        >= 1
    )


def test_a_cabinet_user_is_not_a_manager(client_for, user, action, issue_codes):
    (code,) = issue_codes(action)
    client = client_for(user)
    body = client.post(reverse("promo:check"), {"code": code}).content.decode()
    assert "Авторизация" in body and "действителен" not in body
    assert client.post(reverse("promo:check_redeem"), {"code": code}).status_code == 302
    assert PromoCode.objects.get(code=code).used_at is None


def test_a_manager_sees_only_their_accounts_codes(
    client, action, issue_codes, other_user, make_manager
):
    (code,) = issue_codes(action)
    make_manager(other_user.account, login="stranger")
    sign_in(client, login="stranger")
    body = client.post(reverse("promo:check"), {"code": code}).content.decode()
    assert "Промокод не найден" in body and "Выдайте скидку" not in body
    client.post(reverse("promo:check_redeem"), {"code": code})
    assert PromoCode.objects.get(code=code).used_at is None


def test_expired_and_unknown_codes_are_explained(
    client, action, issue_codes, make_manager
):
    (code,) = issue_codes(action)
    PromoCode.objects.filter(code=code).update(
        issued_at=timezone.now() - timedelta(days=40)
    )
    make_manager(action.account)
    sign_in(client)
    assert (
        "Срок действия промокода истёк"
        in client.post(reverse("promo:check"), {"code": code}).content.decode()
    )
    assert (
        "Промокод не найден"
        in client.post(reverse("promo:check"), {"code": "0O1IL!"}).content.decode()
    )


def test_the_check_page_throttles_guessing(client, user, make_manager, settings):
    make_manager(user.account)
    sign_in(client)
    for i in range(settings.PROMO_CHECK_FAILURES_PER_MANAGER):
        client.post(reverse("promo:check"), {"code": f"GUESS{i}"})
    response = client.post(reverse("promo:check"), {"code": "GUESSX"})
    assert response.status_code == 429
    assert "Слишком много неудачных попыток" in response.content.decode()


def test_removing_a_manager_ends_their_session(
    client, user, make_manager, action, issue_codes
):
    (code,) = issue_codes(action)
    manager = make_manager(user.account)
    sign_in(client)
    manager.delete()
    body = client.post(reverse("promo:check"), {"code": code}).content.decode()
    assert "Авторизация" in body


def test_sign_out_keeps_the_cabinet_session(client_for, user, make_manager):
    client = client_for(user)
    make_manager(user.account)
    sign_in(client)
    client.post(reverse("promo:check_logout"))
    assert "Авторизация" in client.get(reverse("promo:check")).content.decode()
    assert client.get(reverse("promo:actions")).status_code == 200


def test_changing_a_managers_password_ends_their_session(
    client, client_for, user, other_user, make_manager
):
    manager = make_manager(user.account)
    sign_in(client)
    owner = client_for(user)  # the same test client: now also a cabinet user
    short = owner.post(
        reverse("promo:manager_password", args=[manager.pk]), {"password": "123"}
    )
    assert short.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password("clerk-pass-1")
    owner.post(
        reverse("promo:manager_password", args=[manager.pk]),
        {"password": "new-pass-42"},
    )
    manager.refresh_from_db()
    assert manager.check_password("new-pass-42")
    assert "Авторизация" in owner.get(reverse("promo:check")).content.decode()
    foreign = client_for(other_user).post(
        reverse("promo:manager_password", args=[manager.pk]), {"password": "hijack-123"}
    )
    assert foreign.status_code == 404
