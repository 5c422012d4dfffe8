"""Settings tabs: critical-balance threshold, cabinet users, password, and the
notification centre in the header."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from billing.services import ledger_post
from cabinet.models import Account, Notification, User

pytestmark = pytest.mark.django_db


def test_threshold_alert_is_sent_once_per_crossing(client_for, user):
    client = client_for(user)
    resp = client.post(reverse("cabinet:settings"), {"low_balance_threshold": "500"})
    assert resp.status_code == 302
    assert Account.objects.get(pk=user.account_id).low_balance_threshold == Decimal(
        "500"
    )
    aid = user.account_id
    ledger_post(
        account_id=aid, amount=Decimal("-400"), kind="charge", reason="a"
    )  # 600
    assert not Notification.objects.filter(kind="balance").exists()
    ledger_post(
        account_id=aid, amount=Decimal("-200"), kind="charge", reason="b"
    )  # 400
    ledger_post(
        account_id=aid, amount=Decimal("-100"), kind="charge", reason="c"
    )  # 300
    assert Notification.objects.filter(kind="balance").count() == 1
    assert sum("критического порога" in m.subject for m in mail.outbox) == 1
    ledger_post(
        account_id=aid, amount=Decimal("1000"), kind="topup", reason="d"
    )  # 1300
    ledger_post(
        account_id=aid, amount=Decimal("-900"), kind="charge", reason="e"
    )  # 400
    assert Notification.objects.filter(kind="balance").count() == 2


def test_threshold_form_rejects_bad_values(client_for, user):
    resp = client_for(user).post(
        reverse("cabinet:settings"), {"low_balance_threshold": "-5"}
    )
    assert resp.status_code == 400
    assert Account.objects.get(pk=user.account_id).low_balance_threshold is None


def test_owner_adds_changes_and_removes_cabinet_users(client_for, user):
    client = client_for(user)
    resp = client.post(
        reverse("cabinet:users"),
        {
            "email": "Op@Example.com",
            "full_name": "Оператор",
            "role": "operator",
            "password": "long-enough-pw-1",
        },
    )
    assert resp.status_code == 302
    member = User.objects.get(email="op@example.com")
    assert member.account_id == user.account_id and member.role == "operator"
    assert "op@example.com" in client.get(reverse("cabinet:users")).content.decode()
    client.post(reverse("cabinet:user_role", args=[member.pk]), {"role": "readonly"})
    member.refresh_from_db()
    assert member.role == "readonly"
    client.post(reverse("cabinet:user_remove", args=[member.pk]))
    assert not User.objects.filter(pk=member.pk).exists()


def test_duplicate_email_and_weak_password_are_refused(client_for, user, other_user):
    resp = client_for(user).post(
        reverse("cabinet:users"),
        {"email": other_user.email, "role": "operator", "password": "123"},
    )
    html = resp.content.decode()
    assert resp.status_code == 400 and "уже зарегистрирован" in html
    assert User.objects.filter(account=user.account).count() == 1


def test_owner_cannot_remove_self_or_demote_the_last_owner(client_for, user):
    client = client_for(user)
    client.post(reverse("cabinet:user_remove", args=[user.pk]))
    assert User.objects.filter(pk=user.pk).exists()
    client.post(reverse("cabinet:user_role", args=[user.pk]), {"role": "operator"})
    user.refresh_from_db()
    assert user.role == "owner"


def test_foreign_cabinet_user_is_404(client_for, user, other_user):
    client = client_for(user)
    assert (
        client.post(reverse("cabinet:user_remove", args=[other_user.pk])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("cabinet:user_role", args=[other_user.pk]), {"role": "readonly"}
        ).status_code
        == 404
    )
    assert User.objects.get(pk=other_user.pk).role == "owner"


def test_password_change_tab(client_for, user):
    client = client_for(user)
    assert (
        "Безопасность"
        in client.get(reverse("cabinet:password_change")).content.decode()
    )
    resp = client.post(
        reverse("cabinet:password_change"),
        {
            "old_password": "secret-pass-123",
            "new_password1": "brand-new-pass-7",
            "new_password2": "brand-new-pass-7",
        },
    )
    assert resp.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-7")


def test_notification_centre_dropdown_and_mark_read(client_for, user):
    from cabinet.services import notification_create

    for i in range(3):
        notification_create(account_id=user.account_id, title=f"Событие {i}")
    client = client_for(user)
    page = client.get(reverse("cabinet:dashboard")).content.decode()
    assert 'id="unread-count">3<' in page and "hx-get" in page
    fragment = client.get(
        reverse("cabinet:notifications") + "?dropdown=1", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment and "Событие 2" in fragment
    fragment = client.post(
        reverse("cabinet:notifications_read"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-swap-oob="delete"' in fragment
    assert not Notification.objects.filter(
        account_id=user.account_id, read_at__isnull=True
    ).exists()


def test_opening_a_notification_marks_it_read(client_for, user, other_user):
    from cabinet.services import notification_create

    mine = notification_create(
        account_id=user.account_id, title="x", url="/billing/pay/"
    )
    foreign = notification_create(account_id=other_user.account_id, title="y")
    client = client_for(user)
    resp = client.post(reverse("cabinet:notification_open", args=[mine.pk]))
    assert resp["Location"] == "/billing/pay/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert (
        client.post(reverse("cabinet:notification_open", args=[foreign.pk])).status_code
        == 404
    )


def test_notification_dropdown_query_count_is_fixed(
    client_for, user, django_assert_max_num_queries
):
    from cabinet.services import notification_create

    for i in range(30):
        notification_create(account_id=user.account_id, title=f"n{i}")
    client = client_for(user)
    with django_assert_max_num_queries(8):
        client.get(
            reverse("cabinet:notifications") + "?dropdown=1", HTTP_HX_REQUEST="true"
        )
