from decimal import Decimal

from django.db import migrations

# The balance thresholds of the price tiers (the manual's tariffs slider shows
# "от 11100 руб до 30400 руб") and the SMS prices per tier.  Staff edit both in
# the admin.
TIERS = [(0, "0"), (1, "11100"), (2, "30400"), (3, "100000")]
# Discount per tier from the base price of every tier-0 SMS row.
TIER_DISCOUNT = {1: Decimal("0.20"), 2: Decimal("0.40"), 3: Decimal("0.60")}


def seed(apps, schema_editor):
    TariffTier = apps.get_model("billing", "TariffTier")
    Tariff = apps.get_model("billing", "Tariff")
    for tier, min_balance in TIERS:
        TariffTier.objects.get_or_create(tier=tier, defaults={"min_balance": Decimal(min_balance)})
    for row in list(Tariff.objects.filter(channel="sms", tier=0)):
        for tier, discount in TIER_DISCOUNT.items():
            Tariff.objects.get_or_create(
                channel="sms", country=row.country, operator=row.operator, tier=tier,
                defaults={"price": max(row.price - discount, Decimal("0.10"))},
            )


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_tiers_payments_documents")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
