"""The price the user is shown is the price charged (issue 14, «Quote ≠
charge»): the tariff tier is fixed when the price is shown, the hold is the
quote's figure, and preparation never charges more."""

from decimal import Decimal

import pytest
from django.urls import reverse

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
    assert "стоимость 127,50\u00a0₽" in refused.value.message
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


def _estimate(client, data):
    import re

    resp = client.post(reverse("messaging:sms_estimate"), data)
    assert resp.status_code == 200
    token = re.search(r'name="quote_token" value="([^"]+)"', resp.content.decode())
    assert token, "the estimate carries the price it shows"
    return token.group(1)


def test_the_form_is_charged_at_the_tier_it_was_shown(make_user, client_for, tiers):
    """The balance drops below the tier between the estimate and the click
    (another send): the campaign still costs what the page showed."""
    user = make_user(balance=Decimal("1100"))
    group = group_of(user.account, 10)
    client = client_for(user)
    data = {"text": "Скидка", "groups": [str(group.pk)]}
    token = _estimate(client, data)
    from billing.services import ledger_post

    ledger_post(
        account_id=user.account_id, amount=Decimal("-200"), kind="charge", reason="x"
    )
    resp = client.post(reverse("messaging:sms_send"), {**data, "quote_token": token})
    assert resp.status_code == 302
    campaign = Campaign.objects.get(account_id=user.account_id)
    assert campaign.cost == Decimal("23.70")  # 10 × 2.37, the tier shown
    # Without the shown price the tier is read now: 2.55.
    resp = client.post(reverse("messaging:sms_send"), data)
    assert Campaign.objects.filter(account_id=user.account_id).count() == 2
    assert Campaign.objects.order_by("-id").first().cost == Decimal("25.50")


def test_a_send_dearer_than_shown_is_refused_until_the_user_agrees(
    make_user, client_for, tiers
):
    user = make_user(balance=Decimal("500"))
    group = group_of(user.account, 10)
    client = client_for(user)
    data = {"text": "Скидка", "groups": [str(group.pk)]}
    token = _estimate(client, data)
    Contact.objects.create(
        account=user.account, group=group, phone="+79169999999", country="RU"
    )
    resp = client.post(reverse("messaging:sms_send"), {**data, "quote_token": token})
    assert resp.status_code == 200
    assert "Стоимость рассылки изменилась" in resp.content.decode()
    assert not Campaign.objects.filter(account_id=user.account_id).exists()
    assert Account.objects.get(pk=user.account_id).balance == Decimal("500")
    # A new estimate shows the new price; sent with it, it goes.
    token = _estimate(client, data)
    resp = client.post(reverse("messaging:sms_send"), {**data, "quote_token": token})
    assert resp.status_code == 302
    assert Campaign.objects.get(account_id=user.account_id).cost == Decimal("28.05")


def test_a_forged_or_foreign_quote_is_ignored(make_user, client_for, tiers):
    rich = make_user(balance=Decimal("5000"))
    poor = make_user(balance=Decimal("100"))
    data_rich = {"text": "Скидка", "phone": "+79161112233"}
    token = _estimate(client_for(rich), data_rich)
    client = client_for(poor)
    client.post(reverse("messaging:sms_send"), {**data_rich, "quote_token": token})
    client.post(
        reverse("messaging:sms_send"),
        {"text": "Скидка", "phone": "+79161112234", "quote_token": token[:-2] + "xx"},
    )
    costs = sorted(
        Campaign.objects.filter(account_id=poor.account_id).values_list(
            "cost", flat=True
        )
    )
    assert costs == [Decimal("2.55"), Decimal("2.55")]  # the poor account's tier
