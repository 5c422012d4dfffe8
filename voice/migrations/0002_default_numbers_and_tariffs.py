import random
from decimal import Decimal

from django.db import migrations

# The pools calls are placed from (staff edit them in the admin): federal numbers
# for campaigns, and numbers whose last four digits are CallPassword codes (all
# different, so every code in the pool is another number).
FEDERAL = [f"+7495{n:07d}" for n in random.Random(4).sample(range(10**7), 12)]
CALLPASSWORD = [f"+7800{n:03d}{code:04d}" for n, code in zip(
    random.Random(11).choices(range(1000), k=200),
    random.Random(16).sample(range(10000), 200),
    strict=True,
)]
# Manual 4.5 (tier 0): a call from the client's own number and from a federal
# number, per second (the first 20 seconds are billed whole); speech synthesis
# per 100 characters; CallPassword per call (about a sixth of an SMS).  Prices
# have two decimals (``Tariff.price``).
PRICES = {
    "own": ["0.09", "0.08", "0.07", "0.06"],
    "federal": ["0.06", "0.05", "0.04", "0.03"],
    "tts": ["0.30", "0.30", "0.25", "0.20"],
}
CALLPASSWORD_PRICES = ["0.45", "0.40", "0.35", "0.30"]


def seed(apps, schema_editor):
    VoiceNumber = apps.get_model("voice", "VoiceNumber")
    Tariff = apps.get_model("billing", "Tariff")
    for number in FEDERAL:
        VoiceNumber.objects.get_or_create(number=number, purpose="voice")
    for number in CALLPASSWORD:
        VoiceNumber.objects.get_or_create(number=number, purpose="callpassword")
    for variant, prices in PRICES.items():
        for tier, price in enumerate(prices):
            Tariff.objects.get_or_create(
                channel="voice", variant=variant, country="RU", operator="", tier=tier,
                defaults={"price": Decimal(price)},
            )
    for tier, price in enumerate(CALLPASSWORD_PRICES):
        Tariff.objects.get_or_create(
            channel="callpassword", variant="", country="RU", operator="", tier=tier,
            defaults={"price": Decimal(price)},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("voice", "0001_audio_numbers_callpassword"),
        ("billing", "0007_refund_kind_label"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
