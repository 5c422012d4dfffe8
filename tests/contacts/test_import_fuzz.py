"""Property-based run of the contacts import (C5): whatever bytes a user
uploads — random junk, a real .xlsx with bytes flipped, CSV text of any
alphabet and separators — the upload is either refused with a clear message
(and nothing is created) or becomes a job that ends «done» or «failed» with a
message of its own; never an unexpected exception, never the "internal error"
fallback, and contacts exist only for a finished job."""

import io
import logging

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from contacts import importer, services
from contacts.models import Contact, ImportJob
from tests.properties import repeatable

pytestmark = pytest.mark.django_db


def _valid_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Телефон", "Имя", "Дата рождения"])
    for i in range(20):
        ws.append([f"+7916123{i:04d}", f"Имя {i}", "01.02.1990"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


VALID_XLSX = _valid_xlsx()


@st.composite
def flipped_xlsx(draw):
    data = bytearray(VALID_XLSX)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    return "clients.xlsx", bytes(data)


CSV_TEXT = st.lists(
    st.lists(
        st.one_of(
            st.sampled_from(["+79161234567", "8 903 123-45-67", "Анна", "01.02.1990"]),
            st.text(max_size=20),
        ),
        min_size=1,
        max_size=5,
    ),
    min_size=1,
    max_size=20,
)


@st.composite
def csv_files(draw):
    rows = draw(CSV_TEXT)
    separator = draw(st.sampled_from([";", ",", "\t", "|"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "utf-16"]))
    text = "\n".join(separator.join(row) for row in rows)
    return "clients.csv", text.encode(encoding, errors="replace")


FILES = st.one_of(
    flipped_xlsx(),
    csv_files(),
    st.tuples(
        st.sampled_from(["a.csv", "a.xlsx", "a.xls", "a.txt"]),
        st.binary(min_size=0, max_size=3000),
    ),
    st.tuples(
        st.just("a.xlsx"),
        st.binary(max_size=2000).map(lambda tail: VALID_XLSX[:600] + tail),
    ),
)


def test_any_uploaded_file_is_refused_clearly_or_imported(user, make_group, caplog):
    group = make_group(user.account)
    outcomes = {"refused": 0, "failed": 0, "done": 0}

    @repeatable(40, "IMPORT_FUZZ_EXAMPLES")
    @given(upload=FILES)
    def run(upload):
        name, data = upload
        before = Contact.objects.filter(group=group).count()
        jobs = ImportJob.objects.count()
        try:
            job = services.import_job_create(
                account=user.account,
                group=group,
                upload=SimpleUploadedFile(name, data),
            )
        except importer.ImportFileError as exc:
            assert exc.message
            assert ImportJob.objects.count() == jobs
            assert Contact.objects.filter(group=group).count() == before
            outcomes["refused"] += 1
            return
        try:
            services.import_job_start(job=job, mapping={"0": "phone"})
        except importer.ImportFileError as exc:
            assert exc.message
            outcomes["refused"] += 1
            return
        job.refresh_from_db()
        assert job.status in ("done", "failed"), job.status
        after = Contact.objects.filter(group=group).count()
        if job.status == "failed":
            assert job.message and "внутренняя ошибка" not in job.message
            assert after == before
        else:
            assert after == before + job.created
        outcomes[job.status] += 1

    with caplog.at_level(logging.ERROR, logger="contacts.services"):
        run()
    assert not [r for r in caplog.records if "failed" in r.getMessage()]
    assert outcomes["refused"] and outcomes["done"], outcomes
