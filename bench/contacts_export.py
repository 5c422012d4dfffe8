"""``manage.py bench contacts_export --rows 100000``

Fills a fresh group with ``rows`` contacts (one set-based INSERT … SELECT
generate_series on PostgreSQL), then streams the .xlsx export through the same
generator the download view and the API use, counting bytes, and checks the
file by reading it back with python-calamine."""

import resource
import tempfile
import time

from django.db import connection


def add_arguments(parser):
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", default="xlsx", choices=["xlsx", "csv"])


def seed(account_id: int, group_id: int, rows: int, offset: int = 0) -> None:
    """Insert ``rows`` varied contacts into a group with one statement."""
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO contacts_contact (account_id, group_id, phone, last_name,
                first_name, middle_name, birth_date, gender, email, link, consent,
                operator, country, region, timezone, extra, created_at)
            SELECT %s, %s, '+79' || lpad((%s + i)::text, 9, '0'),
                (ARRAY['Иванов','Петрова','Сидоров','Кузнецова','Смирнов'])[1 + i %% 5],
                (ARRAY['Анна','Иван','Мария','Пётр','Ольга','Сергей'])[1 + i %% 6],
                'Иванович', DATE '1950-01-01' + (i %% 20000),
                (ARRAY['m','f',''])[1 + i %% 3], 'user' || i || '@example.com', '',
                i %% 2 = 0,
                (ARRAY['МТС','МегаФон','Билайн','Т2'])[1 + i %% 4], 'RU',
                (ARRAY['Москва','Санкт-Петербург','Краснодарский край',
                       'Новосибирская обл.'])[1 + i %% 4],
                'Europe/Moscow', jsonb_build_object('card', 'C' || i), now()
            FROM generate_series(1, %s) AS i
            """,
            [account_id, group_id, offset, rows],
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE contacts_contact")


def run(rows, format="xlsx", **_):
    import python_calamine as pc

    from cabinet.services import account_create
    from contacts import exporter, services
    from contacts.models import Contact, CustomField, Group

    stamp = int(time.time() * 1000)
    user = account_create(
        email=f"bench-export-{stamp}@example.com", password="bench-pass-123"
    )
    account = user.account
    CustomField.objects.create(account=account, key="card", name="Номер карты")
    group = Group.objects.create(account=account, name="bench export")
    seed(account.pk, group.pk, rows)
    services.refresh_sizes([group.pk])
    fields = list(CustomField.objects.filter(account=account))
    stream = exporter.xlsx_stream if format == "xlsx" else exporter.csv_stream
    size = 0
    with tempfile.NamedTemporaryFile(suffix=f".{format}") as out:
        t0 = time.perf_counter()
        for chunk in stream(account_id=account.pk, groups=[group], fields=fields):
            size += len(chunk)
            out.write(chunk)
        seconds = time.perf_counter() - t0
        out.flush()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if format == "xlsx":
            sheet = pc.CalamineWorkbook.from_path(out.name).get_sheet_by_index(0)
            read_back = sum(1 for _ in sheet.iter_rows()) - 1
        else:
            with open(out.name, encoding="utf-8-sig") as handle:
                read_back = sum(1 for _ in handle) - 1
    Contact.objects.filter(group=group)._raw_delete("default")
    account.delete()
    return {
        "rows": rows,
        "format": format,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "bytes": size,
        "peak_rss_mb": round(peak, 1),
        "rows_read_back": read_back,
    }
