from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

# The price of one delivered VK / OK message (only delivered ones are charged),
# by country, base tier; the higher tiers of the balance pay less.
PRICES = {
    "vk": {"RU": "1.20", "BY": "1.40", "KZ": "1.60"},
    "ok": {"RU": "1.10", "BY": "1.30", "KZ": "1.50"},
}
TIER_DISCOUNT = {1: Decimal("0.05"), 2: Decimal("0.10"), 3: Decimal("0.15")}
CENT = Decimal("0.01")


def seed(apps, schema_editor):
    Tariff = apps.get_model("billing", "Tariff")
    for channel, prices in PRICES.items():
        for country, price in prices.items():
            base = Decimal(price)
            Tariff.objects.get_or_create(
                channel=channel, variant="", country=country, operator="", tier=0,
                defaults={"price": base},
            )
            for tier, discount in TIER_DISCOUNT.items():
                Tariff.objects.get_or_create(
                    channel=channel, variant="", country=country, operator="",
                    tier=tier,
                    defaults={
                        "price": (base * (1 - discount)).quantize(CENT, ROUND_HALF_UP)
                    },
                )


def unseed(apps, schema_editor):
    apps.get_model("billing", "Tariff").objects.filter(channel__in=["vk", "ok"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0001_initial"),
        ("billing", "0006_tariff_variant"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
