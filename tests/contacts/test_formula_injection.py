"""Spreadsheet formula injection: no cell of a CSV we write is one a
spreadsheet evaluates (OWASP: leading =, +, -, @, tab, CR), header cells
included; a phone number stays as it is.  .xlsx text is always a text cell."""

import csv
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cabinet.spreadsheets import csv_safe
from contacts import exporter, services

pytestmark = pytest.mark.django_db

HOSTILE = [
    "-2+3+cmd|' /C calc'!A0",
    "-1+1",
    "=1+1",
    "+SUM(1)",
    '@HYPERLINK("http://evil","x")',
    "\t=1+1",
    "\r=1+1",
]
SAFE = ["+7 916 123-45-67", "+79161234567", "-15", "-2,50", "Иванова", "", "15"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_a_spreadsheet_would_evaluate_is_neutralised(text):
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize("text", SAFE)
def test_phones_numbers_and_plain_text_stay(text):
    assert csv_safe(text) == text


def _evaluated(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(
        r"\+\d[\d ()\-]*|-\d+(?:[.,]\d+)?", cell
    )


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.fixture
def web(client_for, user):
    return client_for(user)


def test_the_contacts_csv_export_has_no_formula_cells(
    web, user, make_group, make_contact
):
    services.custom_field_create(
        account=user.account, name="=cmd|'/C calc'!A0", key="x"
    )
    group = make_group(user.account, "@группа")
    make_contact(
        group,
        "+79161234567",
        last_name=HOSTILE[0],
        first_name=HOSTILE[1],
        middle_name="\t=1+1",
        email="-1+1@example.com",
        extra={"x": "+SUM(1)"},
    )
    response = web.get(
        reverse("contacts:export"), {"groups": [group.pk], "format": "csv"}
    )
    rows = _cells(b"".join(response.streaming_content).decode("utf-8-sig"))
    flat = [cell for row in rows for cell in row]
    assert not [cell for cell in flat if _evaluated(cell)], flat
    assert "'" + HOSTILE[0] in flat and "'-1+1" in flat and "'@группа" in flat
    assert "'=cmd|'/C calc'!A0" in rows[0]  # the header: a user-named column
    assert "+79161234567" in rows[1]  # the phone as it was


def test_the_import_error_file_has_no_formula_cells(web, user, make_group):
    group = make_group(user.account)
    data = (
        "Телефон;=Имя\n"
        "нет номера;-2+3+cmd|' /C calc'!A0\n"
        "-1+1;@SUM(1)\n"
        "+7 916 123-45-67;Анна\n"
    ).encode()
    job = services.import_job_create(
        account=user.account, group=group, upload=SimpleUploadedFile("a.csv", data)
    )
    services.import_job_start(job=job, mapping={"0": "phone", "1": "first_name"})
    job.refresh_from_db()
    assert job.status == "done" and job.invalid == 2
    report = web.get(reverse("contacts:import_errors", args=[job.pk]))
    rows = _cells(b"".join(report.streaming_content).decode("utf-8-sig"))
    flat = [cell for row in rows for cell in row]
    assert not [cell for cell in flat if _evaluated(cell)], flat
    assert "'-2+3+cmd|' /C calc'!A0" in flat and "'-1+1" in flat
    assert "'=Имя" in rows[0]


def test_the_contacts_xlsx_export_writes_text_cells_never_formulas(
    user, make_group, make_contact
):
    group = make_group(user.account, "=1+1")
    make_contact(group, "+79161234567", last_name=HOSTILE[0], first_name="=1+1")
    data = b"".join(
        exporter.xlsx_stream(account_id=user.account_id, groups=[group], fields=[])
    )
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet
    assert HOSTILE[0].encode() in sheet  # as it was, in a text cell
