"""Every charging path reaches the partner: the one-statement charge of the
compatible JSON API's fast lane (``LEDGER_CHARGE_SQL`` + ``ledger_announce``)
accrues exactly like a charge through the cabinet form."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import LedgerEntry
from cabinet.services import token_create
from integrations.fastlane import FastLane
from partners import services
from partners.models import Reward
from tests.integrations.test_fastlane import POSTGRES_ONLY, Spy, _lane, call, one

pytestmark = pytest.mark.django_db
_lane = _lane  # the fast lane's fixture (autouse there), used here by name


@POSTGRES_ONLY
def test_fast_lane_and_form_charges_both_reward_the_partner(
    make_user, rates, client_for, _lane
):
    partner = make_user("partner@example.com", balance=Decimal("0"))
    user = make_user("client@example.com")
    services.attribute(
        client=user.account, code=services.partner_for(account=partner.account).code
    )
    key = token_create(account=user.account, scopes=["messaging"]).key
    spy = Spy()
    status, _h, body = call(FastLane(spy), key, one())
    assert status == 200 and body["success"] and spy.calls == 0  # the lane served it
    response = client_for(user).post(
        reverse("messaging:sms_send"), {"phone": "+79161234568", "text": "Привет"}
    )
    assert response.status_code == 302
    charges = LedgerEntry.objects.filter(account_id=user.account_id, kind="charge")
    assert charges.count() == 2
    for entry in charges:
        reward = Reward.objects.get(entry=entry)
        assert reward.partner_id == partner.account_id
        assert reward.amount == -entry.amount * Decimal("0.05")
