from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from contacts import phones
from contacts.models import NumberingPlanRange
from contacts.plan import plan_reloaded


class Command(BaseCommand):
    help = (
        "Загрузить реестр нумерации (CSV Минцифры: АВС/DEF;От;До;Емкость;Оператор;"
        "Регион[;ИНН]). Несколько файлов (ABC-3xx.csv … DEF-9xx.csv) заменяют "
        "текущую таблицу целиком."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--append",
            action="store_true",
            help="добавить к уже загруженным диапазонам",
        )

    def handle(self, *args, files, append=False, **options):
        rows: list[NumberingPlanRange] = []
        for path in files:
            try:
                for item in phones.parse_registry_csv(path):
                    if not (
                        0 <= item.start <= item.end < 10**7 and 0 <= item.prefix < 1000
                    ):
                        raise ValueError(f"неверный диапазон {item!r}")
                    rows.append(
                        NumberingPlanRange(
                            prefix=item.prefix,
                            start=item.start,
                            end=item.end,
                            operator=item.operator[:200],
                            region=item.region[:200],
                            inn=item.inn[:12],
                        )
                    )
            except (OSError, ValueError, UnicodeError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
        if not rows:
            raise CommandError("В файле нет ни одного диапазона номеров.")
        # Validate the whole plan before touching the table.
        phones.NumberingPlan(
            (r.prefix, r.start, r.end, r.operator, r.region, r.inn) for r in rows
        )
        with transaction.atomic():
            if not append:
                NumberingPlanRange.objects.all().delete()
            NumberingPlanRange.objects.bulk_create(rows, batch_size=5000)
        plan_reloaded()
        self.stdout.write(f"Загружено диапазонов: {len(rows)}")
