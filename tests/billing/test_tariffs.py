from decimal import Decimal

import pytest

from billing.models import Tariff, TariffTier
from billing.selectors import PriceList, account_tier, tier_for_balance
from billing.services import account_credit


@pytest.fixture
def sms_tiers(db):
    Tariff.objects.filter(channel="sms").delete()
    TariffTier.objects.all().delete()
    for tier, threshold in ((0, "0"), (1, "11100"), (2, "30400")):
        TariffTier.objects.create(tier=tier, min_balance=Decimal(threshold))
    for tier, price in ((0, "2.77"), (1, "2.50"), (2, "2.20")):
        Tariff.objects.create(
            channel="sms", country="RU", tier=tier, price=Decimal(price)
        )
    # Only the base tier knows МТС: higher tiers fall back to their country price.
    Tariff.objects.create(
        channel="sms", country="RU", operator="МТС", tier=0, price=Decimal("2.60")
    )


def test_the_balance_chooses_the_tier(user, sms_tiers):
    account = user.account
    account.refresh_from_db()  # 1000 ₽
    assert PriceList(account=account, channel="sms").price("RU") == Decimal("2.77")
    account_credit(account_id=account.pk, amount=Decimal("15000"), reason="t")
    account.refresh_from_db()
    assert account_tier(account) == 1
    assert PriceList(account=account, channel="sms").price("RU") == Decimal("2.50")
    account_credit(account_id=account.pk, amount=Decimal("20000"), reason="t")
    account.refresh_from_db()
    assert PriceList(account=account, channel="sms").price("RU", "Билайн") == Decimal(
        "2.20"
    )


def test_a_tier_row_beats_a_more_specific_base_row_only_for_its_key(user, sms_tiers):
    account = user.account
    assert PriceList(account=account, channel="sms").price("RU", "МТС") == Decimal(
        "2.60"
    )
    account.balance = Decimal("40000")
    # Tier 2 has no МТС row: the operator's base price still applies to МТС.
    assert PriceList(account=account, channel="sms").price("RU", "МТС") == Decimal(
        "2.60"
    )
    assert PriceList(account=account, channel="sms").price("RU", "Tele2") == Decimal(
        "2.20"
    )


def test_staff_tier_overrides_the_balance(user, sms_tiers):
    account = user.account
    account.tariff_tier = 2
    assert PriceList(account=account, channel="sms").price("RU") == Decimal("2.20")
    account.tariff_tier = 0
    account.balance = Decimal("50000")
    assert PriceList(account=account, channel="sms").price("RU") == Decimal("2.77")


def test_thresholds_are_configurable(user, sms_tiers):
    TariffTier.objects.filter(tier=1).update(min_balance=Decimal("500"))
    assert tier_for_balance(Decimal("999")) == 1
    user.account.refresh_from_db()  # 1000 ₽
    assert PriceList(account=user.account, channel="sms").price("RU") == Decimal("2.50")


def test_pricing_costs_one_query(user, sms_tiers, django_assert_num_queries):
    with django_assert_num_queries(1):
        prices = PriceList(account=user.account, channel="sms")
    with django_assert_num_queries(0):
        for _ in range(1000):
            prices.price("RU", "МТС")


def test_tariffs_page_follows_the_slider(client_for, user, sms_tiers):
    client = client_for(user)
    page = client.get("/billing/tariffs/").content.decode()
    assert "от 0 руб до 11100 руб" in page and "2,77" in page
    fragment = client.get("/billing/tariffs/sms/?balance=12000", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html
    assert "от 11100 руб до 30400 руб" in html and "2,50" in html
    html = client.get("/billing/tariffs/?balance=99999").content.decode()
    assert "от 30400 руб" in html and "2,20" in html


def test_the_balance_inputs_carry_numbers_a_browser_accepts(client_for, user):
    """Number and range inputs take only a dot: the Russian "1000,00" would
    leave the box empty."""
    page = client_for(user).get("/billing/tariffs/").content.decode()
    assert 'id="balance-input" min="0" step="0.01" value="1000.00"' in page
    assert 'step="100" value="1000"' in page


def test_tariffs_page_is_channel_driven(client_for, user, sms_tiers):
    client = client_for(user)
    assert client.get("/billing/tariffs/viber/").status_code == 404
    Tariff.objects.create(channel="viber", country="RU", tier=0, price=Decimal("1.55"))
    resp = client.get("/billing/tariffs/viber/")
    assert resp.status_code == 200
    assert "1,55" in resp.content.decode()
    assert 'href="/billing/tariffs/sms/"' in resp.content.decode()


def test_bad_slider_value_keeps_the_accounts_balance(client_for, user, sms_tiers):
    resp = client_for(user).get("/billing/tariffs/?balance=abc")
    assert resp.status_code == 200
    assert "от 0 руб до 11100 руб" in resp.content.decode()


def test_country_names_follow_the_cabinets_language(client_for, user, sms_tiers):
    client = client_for(user)
    assert "Россия" in client.get("/billing/tariffs/").content.decode()
    client.cookies["django_language"] = "en"
    page = client.get("/billing/tariffs/").content.decode()
    assert "Russia" in page and "Россия" not in page


# --- a first block priced whole (manual 4.5: «Первые 20 секунд») --------------


def test_a_rate_prices_a_first_block_whole_then_each_unit():
    from billing.selectors import Rate

    call = Rate(Decimal("0.06"), 20, Decimal("1.10"))
    assert [call.cost(n) for n in (0, 1, 19, 20, 21, 36)] == [
        Decimal("0"),
        Decimal("1.10"),
        Decimal("1.10"),
        Decimal("1.10"),
        Decimal("1.16"),
        Decimal("2.06"),
    ]
    sms = Rate(Decimal("2.77"))
    assert [sms.cost(n) for n in (0, 1, 3)] == [
        Decimal("0"),
        Decimal("2.77"),
        Decimal("8.31"),
    ]


def test_the_compiled_price_is_the_rate(user, sms_tiers):
    """``unit_price_sql`` (the one-statement API path) prices units as
    ``PriceList.cost`` does, with and without a first block."""
    from django.db import connection

    from billing.selectors import unit_price_sql

    if connection.vendor != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    account = user.account
    Tariff.objects.filter(channel="sms", tier=0, operator="МТС").update(
        first_units=2, first_price=Decimal("4.00")
    )
    prices = PriceList(account=account, channel="sms", tier=0)
    for operator in ("МТС", "Билайн"):
        for units in (0, 1, 2, 3, 5):
            sql = unit_price_sql(
                channel="%(channel)s",
                country="%(country)s",
                operator="%(operator)s",
                tier="%(tier)s::int",
                fallback="%(fallback)s::numeric",
                units="%(units)s::int",
            )
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT {sql}",
                    {
                        "channel": "sms",
                        "country": "RU",
                        "operator": operator,
                        "tier": 0,
                        "fallback": Decimal("9.99"),
                        "units": units,
                    },
                )
                got = cur.fetchone()[0]
            assert got == prices.cost(units, "RU", operator), (operator, units)
    assert prices.cost(3, "RU", "МТС") == Decimal("6.60")  # 4.00 + 2.60


def test_a_first_block_needs_its_length_and_its_price(db):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    row = Tariff(channel="voice", variant="own", tier=7, price=Decimal("0.09"))
    row.first_units = 20
    with translation.override("ru"), pytest.raises(
        ValidationError, match="длину первого блока"
    ):
        row.full_clean()
    row.first_price = Decimal("1.10")
    row.full_clean()
