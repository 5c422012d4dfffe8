"""Z2: staff see an account, adjust its balance with a reason, pin its tier."""

from decimal import Decimal

import pytest

from billing.models import LedgerEntry, Tariff, TariffTier
from billing.selectors import PriceList
from cabinet.models import Account


@pytest.fixture
def tiers(db):
    TariffTier.objects.get_or_create(tier=0, defaults={"min_balance": Decimal("0")})
    TariffTier.objects.get_or_create(tier=2, defaults={"min_balance": Decimal("30400")})
    Tariff.objects.update_or_create(
        channel="sms",
        country="RU",
        operator="",
        tier=2,
        defaults={"price": Decimal("1.99")},
    )


def test_staff_pin_a_tier_from_the_account_list(client, user, staff, tiers):
    client.force_login(staff)
    resp = client.post(
        "/admin/cabinet/account/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(user.account_id),
            "form-0-tariff_tier": "2",
            "_save": "Сохранить",
        },
    )
    assert resp.status_code == 302
    account = Account.objects.get(pk=user.account_id)
    assert account.tariff_tier == 2
    assert PriceList(account=account, channel="sms").price("RU") == Decimal("1.99")


def test_staff_see_the_account_and_adjust_the_balance_with_a_reason(
    client, user, staff
):
    client.force_login(staff)
    page = client.get(
        f"/admin/cabinet/account/{user.account_id}/change/"
    ).content.decode()
    assert "Сумма по журналу" in page and "Начальный баланс" in page
    assert "по балансу" in page
    resp = client.post(
        f"/admin/cabinet/account/{user.account_id}/credit/",
        {"amount": "-200.00", "reason": "Возврат по претензии"},
    )
    assert resp.status_code == 302
    entry = LedgerEntry.objects.get(reason="Возврат по претензии")
    assert entry.amount == Decimal("-200.00") and entry.created_by == staff
    assert Account.objects.get(pk=user.account_id).balance == Decimal("800.00")
    resp = client.post(
        f"/admin/cabinet/account/{user.account_id}/credit/",
        {"amount": "-5000", "reason": "Слишком много"},
    )
    assert resp.status_code == 200 and "Недостаточно средств" in resp.content.decode()
    assert Account.objects.get(pk=user.account_id).balance == Decimal("800.00")
