"""``manage.py bench contacts_import --rows 100000``

Generates an .xlsx of ``rows`` contacts (8 columns, mixed phone notations,
some junk), imports it into a fresh group through the same services the
browser and the API use (upload check + preview, then the background job's
``import_job_run``), and compares the job's time with ``floor_seconds``: the
time just to read the same file's cells with the fastest reader
(python-calamine or openpyxl read-only)."""

import datetime as dt
import random
import resource
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import connection


def add_arguments(parser):
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--policy", default="skip", choices=["skip", "update"])
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="repeat floor and import; report the best of each "
        "(for a machine shared with other work)",
    )
    parser.add_argument(
        "--no-openpyxl-floor",
        action="store_true",
        help="skip timing openpyxl read-only (it is ~8x slower)",
    )


def make_file(rows: int) -> Path:
    import openpyxl

    path = Path(settings.BASE_DIR) / "var" / "bench" / f"contacts_import_{rows}.xlsx"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(rows)
    codes = [
        c
        for c in range(900, 1000)
        if c not in (930, 940, 954, 972, 973, 974, 975, 976, 979, 990)
    ]
    first = ["Анна", "Иван", "Мария", "Пётр", "Ольга", "Сергей", "Елена", "Дмитрий"]
    last = ["Иванов", "Петрова", "Сидоров", "Кузнецова", "Смирнов", "Попова"]
    middle = ["Иванович", "Петровна", "Сергеевич", "Алексеевна", ""]
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Контакты")
    ws.append(
        [
            "Фамилия",
            "Имя",
            "Отчество",
            "Телефон",
            "Дата рождения",
            "Пол",
            "Email",
            "Номер карты",
        ]
    )
    for i in range(rows):
        national = f"{rnd.choice(codes)}{rnd.randrange(10**7):07d}"
        a, b, c, d = national[:3], national[3:6], national[6:8], national[8:]
        roll = rnd.random()
        if roll < 0.01:
            phone = rnd.choice(["нет", "123", "8 916 123 45"])
        elif roll < 0.15:
            phone = int("7" + national)
        else:
            phone = rnd.choice(
                (
                    f"8 ({a}) {b}-{c}-{d}",
                    f"+7 {a} {b}{c}{d}",
                    national,
                    f"7-{a}-{b}-{c}-{d}",
                    f"+7({a}){b} {c} {d}",
                    f"8{national}",
                )
            )
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rnd.randrange(20000))
        ws.append(
            [
                rnd.choice(last),
                rnd.choice(first),
                rnd.choice(middle),
                phone,
                birth if roll < 0.7 else birth.strftime("%d.%m.%Y"),
                rnd.choice(["м", "ж", "М", "Ж", ""]),
                f"user{i}@example.com",
                f"C{i:07d}",
            ]
        )
    wb.save(path)
    return path


def floor_seconds(path: Path, openpyxl_too: bool) -> dict:
    import openpyxl
    import python_calamine as pc

    t0 = time.perf_counter()
    sheet = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    cells = sum(len(r) for r in sheet.iter_rows())
    calamine = time.perf_counter() - t0
    result = {"calamine": round(calamine, 3), "cells": cells}
    if openpyxl_too:
        t0 = time.perf_counter()
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sum(len(r) for r in wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        result["openpyxl"] = round(time.perf_counter() - t0, 3)
    result["floor"] = min(v for k, v in result.items() if k in ("calamine", "openpyxl"))
    return result


def run(rows, policy="skip", no_openpyxl_floor=False, runs=1, **_):
    best = None
    floors = []
    for _ in range(max(1, runs)):
        result = _run_once(rows, policy, no_openpyxl_floor)
        floors.append(result["floor_detail"]["floor"])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    floor = min(floors)
    best["floor_seconds"] = round(floor, 3)
    best["ratio"] = round(best["seconds"] / floor, 2)
    best["runs"] = runs
    return best


def _run_once(rows, policy, no_openpyxl_floor):
    from cabinet.services import account_create
    from contacts import services
    from contacts.models import Contact, Group, ImportJob

    path = make_file(rows)
    floor = floor_seconds(path, not no_openpyxl_floor)
    stamp = int(time.time() * 1000)
    user = account_create(
        email=f"bench-import-{stamp}@example.com", password="bench-pass-123"
    )
    group = Group.objects.create(account=user.account, name="bench import")

    t0 = time.perf_counter()
    with open(path, "rb") as handle:
        job = services.import_job_create(
            account=user.account, group=group, upload=File(handle, name=path.name)
        )
    preview = time.perf_counter() - t0
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.QUEUED, policy=policy
    )
    t0 = time.perf_counter()
    job = services.import_job_run(job_id=job.pk)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stored = Contact.objects.filter(group=group).count()
    result = {
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak, 1),
        "floor_seconds": round(floor["floor"], 3),
        "ratio": round(seconds / floor["floor"], 2),
        "status": job.status,
        "message": job.message,
        "created": job.created,
        "duplicates": job.duplicates,
        "invalid": job.invalid,
        "stored": stored,
        "upload_and_preview_seconds": round(preview, 3),
        "floor_detail": floor,
    }
    Contact.objects.filter(group=group)._raw_delete("default")
    user.account.delete()
    if connection.vendor == "postgresql":
        # Leave no dead index entries behind for the next run.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM contacts_contact")
    return result
