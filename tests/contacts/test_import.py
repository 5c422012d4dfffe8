"""C5: spreadsheet import — formats, mapping, duplicates, invalid rows, and
hostile files that must change nothing."""

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import importer, services
from contacts.models import Contact, ImportJob

pytestmark = pytest.mark.django_db


def xlsx_bytes(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(name, data):
    return SimpleUploadedFile(name, data)


def run_import(user, group, name, data, mapping=None, policy=None):
    job = services.import_job_create(
        account=user.account, group=group, upload=upload(name, data)
    )
    services.import_job_start(job=job, mapping=mapping, policy=policy)
    job.refresh_from_db()
    return job


def test_it_imports_an_xlsx_with_russian_headers_and_reports_invalid_rows(
    user, make_group
):
    group = make_group(user.account)
    services.custom_field_create(account=user.account, name="Номер карты", key="card")
    data = xlsx_bytes(
        [
            [
                "Фамилия",
                "Имя",
                "Отчество",
                "Телефон",
                "Дата рождения",
                "Пол",
                "Email",
                "Номер карты",
            ],
            [
                "Иванова",
                "Анна",
                "Петровна",
                "8 (916) 123-45-67",
                dt.date(1990, 5, 17),
                "ж",
                "anna@example.com",
                "C-1",
            ],
            ["Петров", "Пётр", "", 79031234567, "01.02.1985", "М", "", 42],
            [
                "Сидоров",
                "",
                "",
                "7-916-123-45-67",
                None,
                "",
                "",
                "",
            ],  # duplicate in file
            ["Кто-то", "", "", "не номер", None, "", "", ""],
            ["Ошибка", "", "", "+7 925 000 11 22", "31.02.1990", "", "", ""],
            [None, None, None, None, None, None, None, None],  # empty row: ignored
            ["", "", "", "+380 44 123 4567", "", "", "x@y.ua", ""],
        ]
    )
    job = run_import(user, group, "база.xlsx", data)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.total, job.created, job.updated, job.duplicates, job.invalid) == (
        6,
        3,
        0,
        1,
        2,
    )
    assert [e["row"] for e in job.errors] == [5, 6]
    assert job.errors[0]["reason"] == "Это не номер телефона"
    anna = Contact.objects.get(group=group, phone="+79161234567")
    assert (anna.last_name, anna.first_name, anna.middle_name) == (
        "Иванова",
        "Анна",
        "Петровна",
    )
    assert anna.birth_date == dt.date(1990, 5, 17) and anna.gender == "f"
    assert anna.email == "anna@example.com" and anna.extra == {"card": "C-1"}
    assert anna.operator == "МТС" and anna.timezone == "Europe/Moscow"
    petr = Contact.objects.get(group=group, phone="+79031234567")
    assert petr.birth_date == dt.date(1985, 2, 1) and petr.gender == "m"
    assert petr.extra == {"card": "42"}
    assert Contact.objects.get(group=group, phone="+380441234567").country == "UA"
    group.refresh_from_db()
    assert group.size == 3
    report = open(job.errors_path, encoding="utf-8-sig").read()
    assert "не номер" in report and "Неверная дата рождения" in report


def test_it_reads_csv_in_cp1251_with_semicolons_and_utf8_bom_with_commas(
    user, make_group
):
    group = make_group(user.account)
    cp = "Телефон;Имя\n+7 916 111-22-33;Олег\n9161112234;Ира\n".encode("cp1251")
    job = run_import(user, group, "a.csv", cp)
    assert job.status == "done" and job.created == 2
    assert Contact.objects.get(phone="+79161112233").first_name == "Олег"
    bom = '\ufeffPhone,First name\r\n"+7 (916) 111-22-35",Kate\r\n'.encode()
    job = run_import(user, group, "b.csv", bom)
    assert job.status == "done" and job.created == 1
    assert Contact.objects.get(phone="+79161112235").first_name == "Kate"
    tabs = "79161112236\tЛена\n79161112237\tМаша\n".encode()
    job = run_import(
        user, group, "c.csv", tabs, mapping={"0": "phone", "1": "first_name"}
    )
    assert job.status == "done" and job.created == 2 and not job.has_header


def test_the_duplicate_policy_skips_or_updates_existing_contacts(
    user, make_group, make_contact
):
    group = make_group(user.account)
    make_contact(group, "+79161234567", first_name="Старое", last_name="Фамилия")
    data = "Телефон;Имя\n89161234567;Новое\n89161234568;Другой\n".encode()
    job = run_import(user, group, "a.csv", data)
    assert (job.created, job.duplicates, job.updated) == (1, 1, 0)
    assert Contact.objects.get(phone="+79161234567").first_name == "Старое"
    job = run_import(user, group, "a.csv", data, policy="update")
    assert (job.created, job.duplicates, job.updated) == (0, 0, 2)
    kept = Contact.objects.get(phone="+79161234567")
    assert (kept.first_name, kept.last_name) == ("Новое", "Фамилия")


def test_the_mapping_can_be_adjusted_by_column_number_or_header(user, make_group):
    group = make_group(user.account)
    data = xlsx_bytes([["Колонка А", "Колонка Б"], ["Анна", "+79161234567"]])
    job = services.import_job_create(
        account=user.account, group=group, upload=upload("a.xlsx", data)
    )
    assert job.mapping == {"1": "phone"}
    services.import_job_start(
        job=job, mapping={"Колонка А": "first_name", "Колонка Б": "phone"}
    )
    job.refresh_from_db()
    assert job.status == "done"
    assert Contact.objects.get(group=group).first_name == "Анна"


def test_a_mapping_without_a_phone_column_is_refused(user, make_group):
    group = make_group(user.account)
    job = services.import_job_create(
        account=user.account,
        group=group,
        upload=upload("a.csv", b"phone;name\n+79161234567;A\n"),
    )
    with pytest.raises(importer.ImportFileError, match="номером телефона"):
        services.import_job_start(job=job, mapping={"1": "first_name"})
    assert ImportJob.objects.get(pk=job.pk).status == "preview"


def test_formulas_are_never_evaluated(user, make_group):
    group = make_group(user.account)
    data = xlsx_bytes(
        [
            ["Телефон", "Имя"],
            ["+79161234567", "=1+1"],
            ["+79161234568", '=HYPERLINK("http://evil","x")'],
        ]
    )
    job = run_import(user, group, "f.xlsx", data)
    assert job.status == "done" and job.created == 2
    names = set(
        Contact.objects.filter(group=group).values_list("first_name", flat=True)
    )
    assert "2" not in names


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (30 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("a.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "Это не таблица"),
        ("a.xlsx", b"PK\x03\x04 broken zip", "Файл повреждён"),
        ("a.csv", b"\0\1\2\3junk" * 1000, "Это не таблица"),
        (
            "a.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\0" * 512
            + "EncryptedPackage".encode("utf-16-le"),
            "защищён паролем",
        ),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048, "Файл повреждён"),
        ("a.csv", b"", "пустой"),
    ],
)
def test_a_hostile_or_broken_file_gets_a_clear_error_and_changes_nothing(
    user, make_group, name, data, message
):
    group = make_group(user.account)
    with pytest.raises(importer.ImportFileError, match=message):
        services.import_job_create(
            account=user.account, group=group, upload=upload(name, data)
        )
    assert not ImportJob.objects.exists() and not Contact.objects.exists()


def test_a_zip_bomb_is_refused(user, make_group):
    group = make_group(user.account)
    with pytest.raises(importer.ImportFileError, match="zip-бомбу"):
        services.import_job_create(
            account=user.account, group=group, upload=upload("bomb.xlsx", zip_bomb())
        )


def test_an_oversize_upload_is_refused(user, make_group, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    group = make_group(user.account)
    with pytest.raises(importer.ImportFileError, match="больше"):
        services.import_job_create(
            account=user.account,
            group=group,
            upload=upload("big.csv", b"79161234567\n" * 200),
        )


def test_a_file_broken_half_way_rolls_everything_back(user, make_group, settings):
    group = make_group(user.account)
    rows = "".join(f"+7916{i:07d};x\n" for i in range(10))
    job = services.import_job_create(
        account=user.account,
        group=group,
        upload=upload("a.csv", ("Телефон;Имя\n" + rows).encode()),
    )
    # The file is replaced by junk after the preview (as if it were corrupted).
    with open(job.path, "ab") as handle:
        handle.write(b'+79160000099;"unterminated\n' + b"\x00" * 10)
    services.import_job_start(job=job)
    job.refresh_from_db()
    assert job.status == "failed" and job.message
    assert not Contact.objects.filter(group=group).exists()


def test_a_repeated_start_runs_the_job_once(user, make_group):
    group = make_group(user.account)
    job = services.import_job_create(
        account=user.account,
        group=group,
        upload=upload("a.csv", b"phone\n+79161234567\n"),
    )
    services.import_job_start(job=job)
    services.import_job_start(job=job)
    assert services.import_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.created == 1 and Contact.objects.count() == 1


def test_it_imports_a_legacy_xls(user, make_group):
    from .xls import xls_bytes

    group = make_group(user.account)
    data = xls_bytes(
        [
            ["Телефон", "Имя"],
            ["+79161234567", "Анна"],
            ["8 903 123 45 67", "Олег"],
            ["мусор", "Х"],
        ]
    )
    job = run_import(user, group, "старая база.xls", data)
    assert job.kind == "xls" and job.status == "done", job.message
    assert (job.created, job.invalid) == (2, 1)
    assert Contact.objects.get(group=group, phone="+79031234567").first_name == "Олег"


def test_control_characters_in_cells_are_cleaned_not_fatal(user, make_group):
    from .xls import xls_bytes

    group = make_group(user.account)
    data = xls_bytes(
        [
            ["Телефон", "Имя", "ФИО"],
            ["+79161234567", "Ан\x00на\x07\\", "Иванов\tИван\x1fИванович"],
        ]
    )
    job = run_import(user, group, "a.xls", data)
    assert job.status == "done", job.message
    contact = Contact.objects.get(group=group)
    assert contact.first_name == "Ан на /"
    assert (contact.last_name, contact.middle_name) == ("Иванов", "Иванович")


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_csv_line_endings_of_every_system_are_read(user, make_group, newline):
    """Excel for Mac saves CSV with a bare CR between lines: it was refused with
    Python's «new-line character seen in unquoted field»."""
    group = make_group(user.account)
    text = newline.join(["Телефон;Имя", "+79161234567;Анна", "+79031112233;Борис", ""])
    job = run_import(user, group, "mac.csv", text.encode("cp1251"))
    assert job.status == ImportJob.Status.DONE, job.message
    assert dict(
        Contact.objects.filter(group=group).values_list("phone", "first_name")
    ) == {
        "+79161234567": "Анна",
        "+79031112233": "Борис",
    }


def test_the_preview_counts_the_same_rows_for_csv_and_xlsx_of_one_table(
    user, make_group
):
    """«примерно 7» for the .csv and «примерно 3» for the .xlsx of one table:
    the count was of physical lines; now both count rows with data."""
    group = make_group(user.account)
    table = [
        ["Телефон", "Адрес"],
        ["+79161234567", "Москва,\nул. Ленина, 1"],
        ["+79031112233", "Тверь,\nул. Мира, 2"],
        ["", ""],
        ["+79051234567", "Казань"],
    ]
    buf = io.StringIO()
    import csv

    csv.writer(buf, lineterminator="\r\n").writerows(table + [["", ""], ["", ""]])
    jobs = [
        services.import_job_create(
            account=user.account, group=group, upload=upload(name, data)
        )
        for name, data in (
            ("t.csv", buf.getvalue().encode("utf-8")),
            ("t.xlsx", xlsx_bytes(table)),
            ("mac.csv", buf.getvalue().replace("\r\n", "\r").encode("utf-8")),
        )
    ]
    assert [job.total for job in jobs] == [3, 3, 3]


def test_the_import_page_states_the_row_count_without_guessing(
    user, make_group, client_for
):
    group = make_group(user.account)
    job = services.import_job_create(
        account=user.account,
        group=group,
        upload=upload("t.csv", "Телефон\r+79161234567\r+79031112233\r".encode()),
    )
    body = client_for(user).get(f"/contacts/imports/{job.pk}/").content.decode()
    assert "Строк с контактами в файле: 2." in body and "примерно" not in body


def test_a_broken_csv_is_explained_in_russian(user, make_group):
    group = make_group(user.account)
    data = ("Телефон;Имя\n+79161234567;" + "x" * (1024 * 1024 + 10) + "\n").encode()
    with pytest.raises(importer.ImportFileError) as exc:
        services.import_job_create(
            account=user.account, group=group, upload=upload("big.csv", data)
        )
    assert exc.value.message == (
        "В файле есть ячейка длиннее 1 МБ: так не бывает в таблице контактов."
    )
