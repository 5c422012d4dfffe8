"""The manual's reward table (section 8)."""

from decimal import Decimal

from django.db import migrations

RATES = [
    ("sms", "Рассылка СМС", "5", 365),
    ("email", "Рассылка Email", "10", 365),
    ("voice", "Голосовая рассылка", "7", 365),
    ("viber", "Рассылка Viber", "7", 365),
    ("social", "Рассылка VK и ОК", "7", 365),
    ("callpassword", "Call Password", "7", 365),
    ("scenario", "Сценарий", "5", 365),
    ("chat", "Online-чат", "20", 1095),
    ("sms_in", "Входящие СМС", "10", 365),
]


def seed(apps, schema_editor):
    RewardRate = apps.get_model("partners", "RewardRate")
    for position, (service, label, percent, days) in enumerate(RATES):
        RewardRate.objects.get_or_create(
            service=service,
            defaults={
                "label": label,
                "percent": Decimal(percent),
                "days": days,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
