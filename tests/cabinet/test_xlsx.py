import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from openpyxl import load_workbook

from cabinet import xlsx


def test_it_streams_rows_as_they_are_read(monkeypatch):
    monkeypatch.setattr(xlsx, "_FLUSH_ROWS", 10)
    consumed = {"n": 0}

    def rows():
        for i in range(1000):
            consumed["n"] += 1
            yield [i, f"строка {i}"]

    stream = xlsx.stream_xlsx(title="T", header=["N", "Текст"], rows=rows())
    next(stream), next(stream), next(stream)
    assert consumed["n"] < 50  # bytes went out long before the last row was read
    data = b"".join(stream)
    assert consumed["n"] == 1000
    assert len(data) > 0


def test_it_writes_a_workbook_excel_and_openpyxl_read(settings):
    at = timezone.make_aware(datetime(2026, 11, 20, 9, 30))
    rows = [
        ["=SUM(A1:A2)", 5, Decimal("2.77"), at, date(2026, 1, 2), None, True],
        ['ctrl\x01char <b>&amp;</b> "q"', -1, 1.5, None, None, "", False],
    ]
    data = b"".join(
        xlsx.stream_xlsx(title="Отчёт: [1]/2", header=list("ABCDEFG"), rows=rows)
    )
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    assert ws.title == "Отчёт   1  2"  # [ ] : / are not allowed in sheet names
    got = [list(r) for r in ws.iter_rows(values_only=True)]
    assert got[0] == list("ABCDEFG") and ws["A1"].font.b
    assert got[1][0] == "=SUM(A1:A2)" and ws["A2"].data_type == "s"  # never a formula
    assert got[1][1:3] == [5, 2.77]
    assert got[1][3] == timezone.localtime(at).replace(tzinfo=None)
    assert got[1][4].date() == date(2026, 1, 2) and got[1][6] is True
    assert got[2][0] == 'ctrlchar <b>&amp;</b> "q"'


def test_a_long_sheet_title_with_an_ampersand_stays_valid():
    title = "Рассылка №1 & акция для всех клиентов магазина"
    data = b"".join(xlsx.stream_xlsx(title=title, header=["A"], rows=[[1]]))
    assert load_workbook(io.BytesIO(data)).active.title == title[:31].strip()
