"""Viber tariffs (manual 5.5): country × own/shared name × promotional/service,
tiered by balance.  The price shown before sending is the price charged."""

from decimal import Decimal

import pytest

from cabinet.models import Account
from messaging import moderation, services
from messaging.models import ModerationTemplate
from viber.channels import VIBER
from viber.selectors import viber_tariffs

pytestmark = pytest.mark.django_db


def approve_template(user, text):
    row = moderation.template_create(account=user.account, text=text, channel="viber")
    moderation.template_decide(template=row, approve=True)


def launch(user, text="Скидки!", content=None, sender="", phones=("+79161234567",)):
    return services.campaign_launch(
        account=user.account,
        channel="viber",
        text=text,
        content=content or {},
        sender=sender,
        phones=list(phones),
    )


@pytest.mark.parametrize(
    "phone,price",
    [("+79161234567", "2.30"), ("+77011234567", "2.30"), ("+375291234567", "1.55")],
)
def test_shared_name_promotional_price_by_country(user, phone, price):
    assert launch(user, phones=[phone]).messages.get().price == Decimal(price)


def test_a_text_matching_an_approved_template_is_a_service_message(user):
    approve_template(user, "Ваш заказ [любая фраза] готов")
    campaign = launch(user, text="Ваш заказ №42 готов")
    assert campaign.messages.get().price == Decimal("1.05")
    assert VIBER.variant(user.account, "SMSinfo", "Ваш заказ №42 готов", {}) == (
        "shared:service"
    )
    # An approved SMS template says nothing about Viber.
    other = ModerationTemplate.objects.create(
        account=user.account, text="Код [любая фраза]", status="approved"
    )
    assert other.channel == "sms"
    assert launch(user, text="Код 1234").messages.get().price == Decimal("2.30")


def test_a_button_makes_a_template_text_promotional(user):
    approve_template(user, "Ваш заказ [любая фраза] готов")
    campaign = launch(
        user,
        text="Ваш заказ №42 готов",
        content={"button_text": "Открыть", "button_url": "https://shop.example.com"},
    )
    assert campaign.messages.get().price == Decimal("2.30")


def test_the_tier_follows_the_balance(make_user):
    user = make_user("tier@example.com", balance=Decimal("20000"))
    user.account.refresh_from_db()
    assert launch(user).messages.get().price == Decimal("2.19")  # 2.30 − 5 %


def test_the_quote_is_what_the_launch_charges(user):
    approve_template(user, "Ваш заказ [любая фраза] готов")
    for text in ("Скидки!", "Ваш заказ №7 готов"):
        quote = services.campaign_quote(
            account=user.account,
            channel="viber",
            text=text,
            sender="Akcii",
            phones=["+79161234567", "+375291234567"],
        )
        before = Account.objects.get(pk=user.account_id).balance
        campaign = launch(
            user, text=text, sender="Akcii", phones=["+79161234567", "+375291234567"]
        )
        after = Account.objects.get(pk=user.account_id).balance
        assert quote.total == campaign.cost == before - after
        assert quote.messages == 2 and quote.units == 2


def test_the_tariffs_table_shows_the_manuals_prices():
    table = viber_tariffs(balance=Decimal("0"))
    ru = next(r for r in table.rows if r["country"] == "RU")
    assert (ru["own_promo"], ru["own_service"], ru["shared_promo"]) == (
        Decimal("2.20"),
        Decimal("0.95"),
        Decimal("2.30"),
    )
    assert ru["shared_service"] == Decimal("1.05")
    assert {r["country"] for r in table.rows} == {"AM", "BY", "KZ", "RU", "UA"}
    richer = viber_tariffs(balance=Decimal("40000"))
    assert richer.tier == 2
    ru2 = next(r for r in richer.rows if r["country"] == "RU")
    assert ru2["shared_promo"] == Decimal("2.07")  # −10 %
    only = viber_tariffs(balance=Decimal("0"), countries=["KZ"])
    assert [r["country"] for r in only.rows] == ["KZ"]
