from decimal import Decimal

from django.db import migrations

# Base prices (tier 0) of one SMS part, by operator; "" = any other operator of
# the country.  Staff edit them in the admin; the billing issue adds tiers.
SMS_PRICES = [
    ("RU", "", "2.77"),
    ("RU", "МТС", "2.75"),
    ("RU", "МегаФон", "2.77"),
    ("RU", "Билайн", "2.77"),
    ("RU", "Tele2", "2.65"),
    ("KZ", "", "3.50"),
    ("BY", "", "4.20"),
    ("UA", "", "3.90"),
    ("AM", "", "3.90"),
    ("UZ", "", "3.20"),
]


def seed(apps, schema_editor):
    Tariff = apps.get_model("billing", "Tariff")
    for country, operator, price in SMS_PRICES:
        Tariff.objects.get_or_create(channel="sms", country=country, operator=operator, tier=0,
                                     defaults={"price": Decimal(price)})


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
