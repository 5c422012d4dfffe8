from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from cabinet.models import User
from cabinet.services import account_create
from contacts.models import Contact, Group
from contacts.phones import lookup
from contacts.services import refresh_sizes

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo12345"

GROUPS = {
    "Клиенты": [
        ("+79161234567", "Иванов", "Иван", "Иванович", "m"),
        ("+79031112233", "Петрова", "Мария", "Сергеевна", "f"),
        ("+79215554433", "Сидоров", "Пётр", "", "m"),
    ],
    "Сотрудники": [
        ("+79267778899", "Кузнецова", "Анна", "Павловна", "f"),
        ("+79854443322", "Смирнов", "Алексей", "", "m"),
    ],
    "Стоп-лист": [("+79990000000", "", "", "", "")],
}


class Command(BaseCommand):
    help = (
        "Create the demo account (demo@example.com / demo12345, 1000 ₽, groups). "
        "Idempotent."
    )

    def handle(self, *args, **options):
        if User.objects.filter(email=DEMO_EMAIL).exists():
            self.stdout.write("demo account already exists")
            return
        with transaction.atomic():
            user = account_create(
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                name="ООО «Демо»",
                full_name="Демо Пользователь",
                balance=Decimal("1000"),
            )
            # The demo account is vetted: its campaigns skip new-account moderation.
            type(user.account).objects.filter(pk=user.account_id).update(
                is_trusted=True
            )
            for name, rows in GROUPS.items():
                group = Group.objects.create(
                    account=user.account, name=name, is_stoplist=name == "Стоп-лист"
                )
                for phone, last, first, middle, gender in rows:
                    info = lookup(phone)
                    Contact.objects.create(
                        account=user.account,
                        group=group,
                        phone=phone,
                        last_name=last,
                        first_name=first,
                        middle_name=middle,
                        gender=gender,
                        operator=info.operator,
                        country=info.country,
                        region=info.region,
                        timezone=info.timezone,
                    )
            refresh_sizes(
                Group.objects.filter(account=user.account).values_list("pk", flat=True)
            )
        self.stdout.write(f"demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}")
