"""A streaming .xlsx writer: rows go out as they are read, so a million-row
export needs neither memory nor a temporary file proportional to its size.
It lives in the cabinet, below every app that exports (billing's money
movement, the reports), so none of them imports another for it.

Why not openpyxl's write-only workbook: without lxml it writes ~3,000 rows/s
of 12 columns (a million rows would take five minutes) and it needs the whole
file on disk before the first byte can be sent.  This writer produces the
minimal SpreadsheetML package (inline strings, one number format for dates) at
tens of thousands of rows per second, zipped on the fly (``zipfile`` writes data
descriptors to an unseekable sink).  Text is always text — a cell starting
with "=" is never a formula (the rule for every table: cabinet/spreadsheets.py)."""

import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import timezone

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# XML 1.0 forbids these control characters even when escaped.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = datetime(1899, 12, 30)
_FLUSH_ROWS = 2000

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="DD.MM.YYYY HH:MM"/>'
    '<numFmt numFmtId="165" formatCode="DD.MM.YYYY"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


def _workbook(title: str) -> str:
    # Truncate before escaping: a cut "&amp;" would be invalid XML.
    name = _ILLEGAL.sub("", title)
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    name = escape(name[:31].strip() or "Sheet1")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _cell(value, style: int = 0, tz=None) -> str:
    if value is None or value == "":
        return "<c/>"
    kind = type(value)
    if kind is str:
        text = escape(_ILLEGAL.sub("", value))
        s = f' s="{style}"' if style else ""
        return f'<c t="inlineStr"{s}><is><t xml:space="preserve">{text}</t></is></c>'
    if kind is bool:
        return f'<c t="b"><v>{int(value)}</v></c>'
    if kind is int or kind is float or kind is Decimal:
        return f"<c><v>{value}</v></c>"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(tz or timezone.get_current_timezone())
            value = value.replace(tzinfo=None)
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c s="2"><v>{serial:.8f}</v></c>'
    if isinstance(value, date):
        return f'<c s="3"><v>{(value - _EPOCH.date()).days}</v></c>'
    text = escape(_ILLEGAL.sub("", str(value)))
    s = f' s="{style}"' if style else ""
    return f'<c t="inlineStr"{s}><is><t xml:space="preserve">{text}</t></is></c>'


class _Sink:
    """An unseekable file: collects what zipfile writes until drained."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._pos = 0

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def stream_xlsx(
    *, title: str, header: list[str], rows: Iterable[list]
) -> Iterator[bytes]:
    """Yield the bytes of an .xlsx with a bold header row, then ``rows``."""
    sink = _Sink()
    zf = zipfile.ZipFile(
        sink,
        mode="w",
        compression=zipfile.ZIP_DEFLATED,
        compresslevel=1,
        allowZip64=True,
    )
    for name, body in (
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("xl/workbook.xml", _workbook(title)),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/styles.xml", _STYLES),
    ):
        zf.writestr(name, body)
    yield sink.drain()
    with zf.open("xl/worksheets/sheet1.xml", mode="w", force_zip64=True) as sheet:
        sheet.write(
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            b'main"><sheetData>'
        )
        tz = timezone.get_current_timezone()
        buf = ["<row>" + "".join(_cell(h, 1) for h in header) + "</row>"]
        for row in rows:
            buf.append("<row>" + "".join([_cell(v, 0, tz) for v in row]) + "</row>")
            if len(buf) >= _FLUSH_ROWS:
                sheet.write("".join(buf).encode())
                buf.clear()
                yield sink.drain()
        buf.append("</sheetData></worksheet>")
        sheet.write("".join(buf).encode())
    zf.close()
    yield sink.drain()
