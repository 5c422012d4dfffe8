from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

# The manual's Viber tariffs (5.5): price of one message by country, own or
# shared sender name × promotional or service message — the base tier.
# Columns: own promo, own service, shared promo, shared service.
PRICES = {
    "AM": ("1.55", "1.05", "1.55", "1.05"),
    "BY": ("1.45", "1.00", "1.55", "1.05"),
    "KZ": ("2.20", "1.45", "2.30", "1.50"),
    "RU": ("2.20", "0.95", "2.30", "1.05"),
    "UA": ("1.55", "1.05", "1.55", "1.05"),
}
VARIANTS = ("own:promo", "own:service", "shared:promo", "shared:service")
# "Тарифы зависят только от суммы на вашем балансе": the higher tiers of the
# balance slider (billing's TariffTier) pay less.
TIER_DISCOUNT = {1: Decimal("0.05"), 2: Decimal("0.10"), 3: Decimal("0.15")}
# The monthly package of an own name (5.4), charged when staff approve it.
PACKAGE = ("own:package", "RU", Decimal("35000.00"))
CENT = Decimal("0.01")


def seed(apps, schema_editor):
    Tariff = apps.get_model("billing", "Tariff")
    for country, prices in PRICES.items():
        for variant, price in zip(VARIANTS, prices):
            base = Decimal(price)
            Tariff.objects.get_or_create(
                channel="viber", variant=variant, country=country, operator="",
                tier=0, defaults={"price": base},
            )
            for tier, discount in TIER_DISCOUNT.items():
                Tariff.objects.get_or_create(
                    channel="viber", variant=variant, country=country, operator="",
                    tier=tier,
                    defaults={"price": (base * (1 - discount)).quantize(CENT, ROUND_HALF_UP)},
                )
    variant, country, price = PACKAGE
    Tariff.objects.get_or_create(
        channel="viber", variant=variant, country=country, operator="", tier=0,
        defaults={"price": price},
    )


def unseed(apps, schema_editor):
    apps.get_model("billing", "Tariff").objects.filter(channel="viber").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("viber", "0001_images_packages_replies"),
        ("billing", "0006_tariff_variant"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
