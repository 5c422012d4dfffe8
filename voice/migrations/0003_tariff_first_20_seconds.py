from decimal import Decimal

from django.db import migrations

# Manual 4.5: «Первые 20 секунд» have their own price — 1.10 ₽ from the
# client's own number and from a federal number alike (tier 0) — and then
# each second at the line's per-second price (0.09 own / 0.06 federal).  The
# higher tiers (a bigger balance) pay less for the first 20 seconds as they
# do per second.  A row staff have already given a first block keeps it.
FIRST_SECONDS = 20
FIRST_PRICES = ["1.10", "0.95", "0.80", "0.60"]


def seed(apps, schema_editor):
    Tariff = apps.get_model("billing", "Tariff")
    for tier, price in enumerate(FIRST_PRICES):
        Tariff.objects.filter(
            channel="voice",
            variant__in=["own", "federal"],
            tier=tier,
            first_units=0,
        ).update(first_units=FIRST_SECONDS, first_price=Decimal(price))


def unseed(apps, schema_editor):
    Tariff = apps.get_model("billing", "Tariff")
    Tariff.objects.filter(channel="voice", variant__in=["own", "federal"]).update(
        first_units=0, first_price=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("voice", "0002_default_numbers_and_tariffs"),
        ("billing", "0009_tariff_first_block"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
