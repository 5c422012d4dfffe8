"""One money format everywhere: «2,75 ₽» with the reader's decimal separator,
never «2.75 ₽» beside «2,75 ₽» (pages, flash messages, notifications)."""

import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from billing.models import Payment
from billing.services import _payment_apply
from cabinet.formats import money, money_ru
from cabinet.models import Account, Notification

pytestmark = pytest.mark.django_db

DOT_MONEY = re.compile(r"\d\.\d\d(?:&nbsp;|\s|\xa0)*(?:₽|руб)")


def test_money_has_two_decimals_in_the_readers_format():
    with translation.override("ru"):
        assert money(Decimal("2.75")) == "2,75\xa0₽"
        assert money(Decimal("2.5")) == "2,50\xa0₽"
        assert money(Decimal("1000")) == "1000,00\xa0₽"
        assert money(Decimal("-0.1")) == "-0,10\xa0₽"
    with translation.override("en"):
        assert money(Decimal("2.75")) == "2.75\xa0₽"
        # Texts stored in Russian keep the Russian format whoever caused them.
        assert money_ru(Decimal("2.75")) == "2,75\xa0₽"


def test_the_money_filter_is_available_in_every_template():
    with translation.override("ru"):
        html = Template("{{ x|money }}|{{ y|money }}").render(
            Context({"x": Decimal("2.5"), "y": None})
        )
    assert html == "2,50&nbsp;₽|"


def test_no_page_writes_roubles_with_a_dot(user, client_for):
    from messaging import services
    from tests.reports.conftest import phones

    Account.objects.filter(pk=user.account_id).update(credit_limit=Decimal("100"))
    campaign = services.campaign_launch(
        account=Account.objects.get(pk=user.account_id),
        channel="sms",
        text="Скидка",
        phones=phones(1),
    )
    campaign.refresh_from_db()
    assert campaign.cost % 1  # a fractional price: 2.75
    payment = Payment.objects.create(
        account=user.account, method="card", amount=Decimal("500.50"), token="t-1"
    )
    _payment_apply(payment, status="succeeded", data={"txn": "x"})
    client = client_for(user)
    pages = [
        "/",
        "/reports/",
        f"/reports/campaigns/{campaign.pk}/",
        f"/reports/campaigns/{campaign.pk}/messages/",
        f"/reports/campaigns/{campaign.pk}/breakdown/",
        "/reports/sms/messages/",
        "/reports/sms/sources/",
        "/reports/sms/charts/",
        "/messages/",
        "/billing/ledger/",
        "/billing/services/",
        "/billing/pay/",
        "/notifications/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert not DOT_MONEY.findall(body), (path, DOT_MONEY.findall(body)[:3])
    cost = f"{campaign.cost:.2f}".replace(".", ",")
    detail = client.get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    assert f"{cost}&nbsp;₽" in detail
    assert "кредитный лимит 100,00" in detail
    title = Notification.objects.get(account_id=user.account_id, kind="payment").title
    assert title == "Баланс пополнен на 500,50\xa0₽"
