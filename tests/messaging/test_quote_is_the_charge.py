"""The price the user is shown is the price charged (issue 14, «Quote ≠
charge»): the tariff tier is fixed when the price is shown, the hold is the
quote's figure, and preparation never charges more."""

from decimal import Decimal

import pytest

from billing.models import LedgerEntry, Tariff, TariffTier
from billing.selectors import ledger_sum
from cabinet.models import Account
from contacts.models import Contact, Group
from messaging import services
from messaging.models import Campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers():
    """Base 2.55 ₽ a part; 2.37 ₽ from a balance of 1,000 ₽."""
    TariffTier.objects.all().delete()
    TariffTier.objects.create(tier=0, min_balance=Decimal("0"))
    TariffTier.objects.create(tier=1, min_balance=Decimal("1000"))
    Tariff.objects.filter(channel="sms").delete()
    Tariff.objects.create(channel="sms", country="RU", tier=0, price=Decimal("2.55"))
    Tariff.objects.create(channel="sms", country="RU", tier=1, price=Decimal("2.37"))


def group_of(account, n):
    group = Group.objects.create(account=account, name="Клиенты")
    Contact.objects.bulk_create(
        Contact(
            account=account, group=group, phone=f"+7916{5000 + i:07d}", country="RU"
        )
        for i in range(n)
    )
    return group


@pytest.mark.parametrize("personalised", [False, True])
def test_the_hold_lowering_the_balance_below_a_tier_does_not_raise_the_price(
    make_user, tiers, personalised
):
    """1,100 ₽ on the balance, 200 contacts: the quote is at the 2.37 ₽ tier;
    the hold (474 ₽) drops the balance under 1,000 ₽, yet preparation prices
    at the tier the user was shown — no «Доплата» after it."""
    user = make_user(balance=Decimal("1100"))
    account = Account.objects.get(pk=user.account_id)
    group = group_of(account, 200)
    text = "[Имя], скидка" if personalised else "Скидка 20%"
    quote = services.campaign_quote(
        account=account, channel="sms", text=text, group_ids=[group.pk]
    )
    assert quote.total == Decimal("474.00") and quote.tier == 1
    campaign = services.campaign_launch(
        account=Account.objects.get(pk=user.account_id),
        channel="sms",
        text=text,
        group_ids=[group.pk],
    )
    campaign.refresh_from_db()
    assert campaign.recipients == 200
    assert campaign.cost == quote.total
    assert set(campaign.messages.values_list("price", flat=True)) == {Decimal("2.37")}
    charges = LedgerEntry.objects.filter(account_id=user.account_id, kind="charge")
    assert [e.amount for e in charges] == [-quote.total]
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1100") - quote.total
    assert ledger_sum(account_id=account.pk) == account.balance


def test_insufficient_funds_shows_the_quoted_figure(make_user, tiers):
    user = make_user(balance=Decimal("100"))
    group = group_of(user.account, 50)
    quote = services.campaign_quote(
        account=user.account, channel="sms", text="Скидка", group_ids=[group.pk]
    )
    with pytest.raises(services.LaunchError) as refused:
        services.campaign_launch(
            account=user.account, channel="sms", text="Скидка", group_ids=[group.pk]
        )
    assert quote.total == Decimal("127.50")
    assert "стоимость 127.50 ₽" in refused.value.message
    assert not Campaign.objects.filter(account_id=user.account_id).exists()


def test_the_quote_and_the_messages_agree_on_a_mixed_audience(make_user, tiers):
    """Operators' prices, duplicates across groups, the stop-list and pasted
    numbers: the quote's total is the sum of the written messages' prices."""
    Tariff.objects.create(
        channel="sms", country="RU", operator="МТС", tier=1, price=Decimal("2.10")
    )
    user = make_user(balance=Decimal("5000"))
    group = group_of(user.account, 30)
    Contact.objects.filter(group=group, phone__endswith="1").update(operator="МТС")
    other = Group.objects.create(account=user.account, name="Другие")
    Contact.objects.create(
        account=user.account, group=other, phone="+79160005002", country="RU"
    )
    from contacts.models import StopNumber

    StopNumber.objects.create(account=user.account, phone="+79160005003")
    kwargs = dict(
        account=user.account,
        channel="sms",
        text="Скидка",
        group_ids=[group.pk, other.pk],
    )
    quote = services.campaign_quote(**kwargs)
    assert quote.excluded == {"invalid": 0, "blocked": 1, "duplicates": 1}
    campaign = services.campaign_launch(**kwargs)
    written = sum(campaign.messages.values_list("price", flat=True))
    assert campaign.messages.count() == quote.messages == 29
    assert written == quote.total == Campaign.objects.get(pk=campaign.pk).cost
