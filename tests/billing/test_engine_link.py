"""The engine's charges and refunds land in the ledger under their channel, so
"services rendered" nets refunds into the campaign's service."""

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from billing.selectors import services_rendered
from cabinet.models import Account


@pytest.mark.django_db
def test_campaign_charge_and_refund_are_grouped_under_sms(user):
    from messaging.services import campaign_launch

    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    # …1111 is a permanent gateway failure: refunded by the engine.
    campaign_launch(
        account=account,
        channel="sms",
        text="Привет",
        phones=["+79161234567", "+79160001111"],
    )
    charge = LedgerEntry.objects.get(account_id=user.account_id, kind="charge")
    refund = LedgerEntry.objects.get(account_id=user.account_id, kind="refund")
    assert charge.service == refund.service == "sms"
    today = timezone.localdate()
    report = services_rendered(
        account_id=user.account_id, date_from=today, date_to=today
    )
    assert [r["service"] for r in report.rows] == ["sms"]
    assert report.rows[0]["amount"] == -(charge.amount + refund.amount)
    assert (
        report.spent == Decimal(1000) - Account.objects.get(pk=user.account_id).balance
    )
