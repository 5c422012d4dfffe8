from decimal import Decimal

import pytest

from billing.models import LedgerEntry, Tariff
from billing.selectors import PriceList, ledger_sum
from billing.services import DuplicateEntry, InsufficientFunds, ledger_post
from cabinet.models import Account

pytestmark = pytest.mark.django_db


def test_balance_follows_the_ledger(user):
    account_id = user.account_id
    ledger_post(
        account_id=account_id, amount=Decimal("-10.25"), kind="charge", reason="x"
    )
    ledger_post(account_id=account_id, amount=Decimal("5"), kind="refund", reason="y")
    account = Account.objects.get(pk=account_id)
    assert account.balance == Decimal("994.75")
    assert ledger_sum(account_id=account_id) == account.balance
    assert LedgerEntry.objects.filter(
        account_id=account_id
    ).first().balance_after == Decimal("994.75")


def test_debit_beyond_balance_is_refused_and_changes_nothing(user):
    with pytest.raises(InsufficientFunds):
        ledger_post(
            account_id=user.account_id,
            amount=Decimal("-1000.01"),
            kind="charge",
            reason="too much",
        )
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1000")
    assert LedgerEntry.objects.filter(account_id=user.account_id).count() == 1


def test_credit_limit_allows_going_below_zero(user):
    Account.objects.filter(pk=user.account_id).update(credit_limit=Decimal("100"))
    ledger_post(
        account_id=user.account_id, amount=Decimal("-1050"), kind="charge", reason="x"
    )
    assert Account.objects.get(pk=user.account_id).balance == Decimal("-50")


def test_a_reference_posts_once(user):
    ledger_post(
        account_id=user.account_id,
        amount=Decimal("7"),
        kind="payment",
        reason="p",
        reference="payment:1",
    )
    with pytest.raises(DuplicateEntry):
        ledger_post(
            account_id=user.account_id,
            amount=Decimal("7"),
            kind="payment",
            reason="p",
            reference="payment:1",
        )
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1007")


def test_price_list_prefers_operator_and_tier(user):
    Tariff.objects.all().delete()
    Tariff.objects.create(
        channel="sms", country="RU", operator="", tier=0, price=Decimal("3")
    )
    Tariff.objects.create(
        channel="sms", country="RU", operator="МТС", tier=0, price=Decimal("2.5")
    )
    Tariff.objects.create(
        channel="sms", country="RU", operator="МТС", tier=2, price=Decimal("2.1")
    )
    account = user.account
    assert PriceList(account=account, channel="sms").price("RU", "Билайн") == Decimal(
        "3"
    )
    assert PriceList(account=account, channel="sms").price("RU", "МТС") == Decimal(
        "2.5"
    )
    account.tariff_tier = 2
    assert PriceList(account=account, channel="sms").price("RU", "МТС") == Decimal(
        "2.1"
    )


def test_staff_credit_in_admin_posts_a_ledger_entry(client, user):
    from cabinet.models import User

    staff = User.objects.create_superuser(
        email="staff@example.com", password="staff-pass-1"
    )
    client.force_login(staff)
    resp = client.post(
        f"/admin/cabinet/account/{user.account_id}/credit/",
        {"amount": "150.00", "reason": "Оплата по счёту 12"},
    )
    assert resp.status_code == 302
    entry = LedgerEntry.objects.get(
        account_id=user.account_id, reason="Оплата по счёту 12"
    )
    assert entry.amount == Decimal("150.00")
    assert entry.created_by == staff
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1150")
