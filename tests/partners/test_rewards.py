"""Rewards are read from the ledger: every charge of a referred client accrues
the service's percentage, every refund reverses it, and the sums match the
ledger's exactly."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from cabinet.models import Account
from messaging import services as messaging
from partners import services
from partners.models import Referral, Reward, RewardRate
from tests.partners.conftest import charge

pytestmark = pytest.mark.django_db


def test_the_manuals_rates_are_seeded(rates):
    got = {r.service: (r.percent, r.days) for r in RewardRate.objects.all()}
    assert got["sms"] == (Decimal("5.00"), 365)
    assert got["email"] == (Decimal("10.00"), 365)
    assert got["viber"] == (Decimal("7.00"), 365)
    assert got["chat"] == (Decimal("20.00"), 1095)
    assert got["sms_in"] == (Decimal("10.00"), 365)
    assert len(got) == 9


def test_reward_sums_equal_the_ledgers_across_many_charges_and_refunds(
    partner_and_client,
):
    partner, client = partner_and_client
    rnd = random.Random(7)
    for i in range(150):
        service = rnd.choice(["sms", "viber", "voice", "callpassword"])
        amount = Decimal(rnd.randint(1, 50000)) / 100
        charge(client.account_id, -amount, service=service)
        if rnd.random() < 0.4:
            part = (amount * Decimal(rnd.randint(1, 100)) / 100).quantize(
                Decimal("0.01")
            )
            if part:
                charge(client.account_id, part, service=service, kind="refund")
        if i % 10 == 0:  # money in earns nothing
            charge(client.account_id, Decimal("100"), service="", kind="topup")
    percent = {r.service: r.percent for r in RewardRate.objects.all()}
    expected = Decimal(0)
    for e in LedgerEntry.objects.filter(account_id=client.account_id).exclude(
        service=""
    ):
        expected += -e.amount * percent[e.service] / 100
    rewards = Reward.objects.filter(partner_id=partner.account_id)
    total = sum((r.amount for r in rewards), Decimal(0))
    assert total == expected
    assert (
        rewards.count()
        == LedgerEntry.objects.filter(
            account_id=client.account_id, kind__in=["charge", "refund"]
        ).count()
    )
    assert services.reward_balance(account_id=partner.account_id) == total.quantize(
        Decimal("0.01"), rounding="ROUND_DOWN"
    )


def test_a_real_campaign_charge_and_its_refund_reach_the_partner(
    partner_and_client,
):
    partner, client = partner_and_client
    campaign = messaging.campaign_launch(
        account=client.account, channel="sms", text="Привет", phones=["+79161234567"]
    )
    entry = LedgerEntry.objects.get(account_id=client.account_id, kind="charge")
    assert entry.service == "sms"
    reward = Reward.objects.get(entry=entry)
    assert reward.partner_id == partner.account_id
    assert reward.amount == -entry.amount * Decimal("0.05")
    assert campaign.pk


def test_refunds_reverse_at_most_what_was_earned(partner_and_client):
    partner, client = partner_and_client
    charge(client.account_id, "-10.00")
    charge(client.account_id, "30.00", kind="refund")  # more than charged
    total = sum(r.amount for r in Reward.objects.filter(partner_id=partner.account_id))
    assert total == 0


def test_outside_the_window_nothing_accrues(partner_and_client):
    partner, client = partner_and_client
    Account.objects.filter(pk=client.account_id).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    charge(client.account_id, "-100.00", service="sms")
    charge(client.account_id, "-100.00", service="chat")  # 1,095 days: still paid
    assert list(Reward.objects.values_list("service", "amount")) == [
        ("chat", Decimal("20.000000"))
    ]


def test_unreferred_accounts_and_unrated_services_earn_nothing(
    partner_and_client, make_user
):
    partner, client = partner_and_client
    stranger = make_user("stranger@example.com")
    charge(stranger.account_id, "-100.00")
    charge(client.account_id, "-100.00", service="unknown")
    charge(client.account_id, "-100.00", service="")
    assert not Reward.objects.exists()


def test_staff_changed_rate_applies_to_new_charges(partner_and_client):
    partner, client = partner_and_client
    rate = RewardRate.objects.get(service="sms")
    services.rate_update(rate=rate, percent="12.5", days="365")
    charge(client.account_id, "-100.00")
    assert Reward.objects.get().amount == Decimal("12.5")
    for bad in [("abc", "1"), ("101", "1"), ("5", "-1"), ("5.001", "3"), ("NaN", "1")]:
        with pytest.raises(services.PartnerError):
            services.rate_update(rate=rate, percent=bad[0], days=bad[1])
    rate.refresh_from_db()
    assert rate.percent == Decimal("12.5")


def test_attribution_refuses_own_code_unknown_code_and_a_second_partner(
    make_user, rates
):
    a = make_user("a@example.com")
    b = make_user("b@example.com")
    code_a = services.partner_for(account=a.account).code
    code_b = services.partner_for(account=b.account).code
    assert services.attribute(client=a.account, code=code_a) is None
    assert services.attribute(client=a.account, code="nope") is None
    assert services.attribute(client=a.account, code=None) is None
    assert not Referral.objects.exists()
    assert services.attribute(client=b.account, code=code_a).partner_id == a.account_id
    # Already attributed: the first partner keeps the client.
    c = make_user("c@example.com")
    services.attribute(
        client=b.account, code=services.partner_for(account=c.account).code
    )
    assert Referral.objects.get(client=b.account).partner_id == a.account_id
    assert code_b


def test_signed_cookie_round_trip_and_forgery():
    value = services.cookie_value("abc123")
    assert services.code_from_cookie(value) == "abc123"
    assert services.code_from_cookie("abc123") is None
    assert services.code_from_cookie(value.replace("abc123", "zzz999")) is None
    assert services.code_from_cookie("") is None


def test_an_entry_announced_twice_earns_once(partner_and_client):
    partner, client = partner_and_client
    entry = charge(client.account_id, "-100.00")
    services.reward_for_entry(entry)
    assert Reward.objects.filter(entry=entry).count() == 1


def test_a_charge_costs_no_extra_query_for_an_unreferred_account(
    make_user, rates, django_assert_num_queries
):
    from billing.services import ledger_post

    user = make_user("plain@example.com")
    with django_assert_num_queries(5):  # billing's own, as without partners
        ledger_post(
            account_id=user.account_id,
            amount=Decimal("-1"),
            kind="charge",
            reason="x",
            service="sms",
        )


def test_not_referred_is_answered_from_memory_and_a_new_referral_still_counts(
    make_user, rates, monkeypatch
):
    """Every charge asks whether its account was referred: "no" is for good, so
    the process answers it without the cache's round trip — and a referral
    made in this process (the sign-up's ``attribute``) forgets it at once."""
    partner = make_user("partner2@example.com", balance=Decimal("0"))
    client = make_user("client2@example.com", balance=Decimal("1000"))
    charge(client.account_id, "-10")
    assert services.referral_of(client.account_id) is None

    def no_cache(*args, **kwargs):
        raise AssertionError("asked the cache for a known non-referred account")

    monkeypatch.setattr(services.cache, "get", no_cache)
    assert services.referral_of(client.account_id) is None
    charge(client.account_id, "-10")
    assert not Reward.objects.exists()
    monkeypatch.undo()
    code = services.partner_for(account=partner.account).code
    assert services.attribute(client=client.account, code=code)
    charge(client.account_id, "-10")
    assert Reward.objects.filter(client=client.account).count() == 1
