"""Spreadsheet import of contacts (C5): defensive file sniffing, reading,
column auto-mapping and the fast write path.

Reading: python-calamine for .xlsx/.xls (values only — formulas are never
evaluated, their cached results are read), the csv module for .csv with the
delimiter and encoding detected.  Writing: one transaction per import; on
PostgreSQL the new rows stream through ``COPY … FROM STDIN`` while the file is
still being parsed (the server works on the other core), on other databases
through ``bulk_create``.  Any error before the commit — a broken file found
half-way, a database error — rolls everything back, so a bad file changes
nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from cabinet.spreadsheets import csv_writer

from . import phones as ph
from .signals import contacts_added

MAX_COLUMNS = 60
PREVIEW_ROWS = 8
ERRORS_KEPT = 200  # errors stored on the job row; all go to the CSV report

# Field keys a column can be mapped to ("" = skip the column).
FIELD_LABELS = {
    "phone": "Номер телефона",
    "last_name": "Фамилия",
    "first_name": "Имя",
    "middle_name": "Отчество",
    "fio": "ФИО (одной строкой)",
    "birth_date": "Дата рождения",
    "gender": "Пол",
    "email": "Email",
    "link": "Ссылка",
    "consent": "Согласие на П/Д",
}

_HEADER_ALIASES = {
    "phone": {
        "телефон",
        "номер",
        "номертелефона",
        "мобильный",
        "мобильныйтелефон",
        "мобтелефон",
        "тел",
        "сотовый",
        "phone",
        "phonenumber",
        "mobile",
        "tel",
        "telephone",
        "msisdn",
        "cell",
        "number",
        "номерсотового",
    },
    "last_name": {"фамилия", "lastname", "surname", "familyname"},
    "first_name": {"имя", "firstname", "name", "givenname"},
    "middle_name": {"отчество", "middlename", "patronymic", "secondname"},
    "fio": {"фио", "фамилияимяотчество", "fullname", "клиент", "контакт"},
    "birth_date": {
        "датарождения",
        "деньрождения",
        "др",
        "birthday",
        "birthdate",
        "dateofbirth",
        "dob",
        "дата",
    },
    "gender": {"пол", "gender", "sex"},
    "email": {"email", "почта", "электроннаяпочта", "элпочта", "emailадрес", "mail"},
    "link": {"ссылка", "link", "url", "сайт", "website"},
    "consent": {
        "согласие",
        "согласиенапд",
        "согласиенаобработкуперсональныхданных",
        "согласиенаобработкупд",
        "consent",
        "gdpr",
    },
}
_KEY_CLEAN = re.compile(r"[\s.\-_/:*()«»\"']+")


class ImportFileError(Exception):
    """The file cannot be imported; ``message`` is shown to the user as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- sniffing ----

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_MAX_UNZIPPED = 400 * 1024 * 1024
_MAX_RATIO = 150


def sniff(path: str | Path, filename: str = "") -> str:
    """Return ``xlsx``, ``xls`` or ``csv`` after the safety checks, or raise
    :class:`ImportFileError` (password, zip bomb, not a spreadsheet…)."""
    path = Path(path)
    size = path.stat().st_size
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise ImportFileError(_too_big(limit))
    if size == 0:
        raise ImportFileError(_("Файл пустой."))
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        _check_zip(path)
        return "xlsx"
    if head == _OLE_MAGIC:
        data = path.read_bytes()
        if _ENCRYPTED in data:
            raise ImportFileError(
                _("Файл защищён паролем. Снимите защиту и загрузите его снова.")
            )
        return "xls"
    if head.startswith(
        (
            b"PK",
            b"%PDF",
            b"\x89PNG",
            b"\xff\xd8",
            b"GIF8",
            b"Rar!",
            b"7z\xbc\xaf",
            b"\x1f\x8b",
            b"MZ",
            b"\x7fELF",
        )
    ):
        raise ImportFileError(_not_spreadsheet())
    return "csv"


def _too_big(limit: int) -> str:
    return _("Файл больше %(mb)s МБ. Разделите его на части.") % {
        "mb": limit // (1024 * 1024)
    }


def _not_spreadsheet() -> str:
    return _("Это не таблица. Загрузите файл .xlsx, .xls или .csv.")


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            if any(i.flag_bits & 0x1 for i in infos):
                raise ImportFileError(
                    _("Файл защищён паролем. Снимите защиту и загрузите его снова.")
                )
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > _MAX_UNZIPPED or (
                total > 20 * 1024 * 1024 and total / packed > _MAX_RATIO
            ):
                raise ImportFileError(
                    _(
                        "Файл повреждён или слишком сильно сжат "
                        "(подозрение на zip-бомбу)."
                    )
                )
    except zipfile.BadZipFile:
        raise ImportFileError(_("Файл повреждён: не удалось открыть архив .xlsx."))
    if "xl/workbook.xml" not in names:
        raise ImportFileError(_not_spreadsheet())


# --- reading ----


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="strict")


def _csv_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = _decode(data)
    except (UnicodeDecodeError, UnicodeError):
        raise ImportFileError(_not_spreadsheet()) from None
    sample = text[:65536]
    if "\x00" in sample:
        raise ImportFileError(_not_spreadsheet())
    bad = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if bad > max(3, len(sample) // 200):
        raise ImportFileError(_not_spreadsheet())
    return text


def _csv_error(exc: csv.Error) -> ImportFileError:
    """Python's CSV errors are English sentences about code; say what to do."""
    if "field larger than field limit" in str(exc):
        return ImportFileError(
            _("В файле есть ячейка длиннее 1 МБ: так не бывает в таблице контактов.")
        )
    return ImportFileError(
        _(
            "Не удалось прочитать CSV: проверьте, что файл сохранён как «CSV» "
            "(значения через запятую или точку с запятой) в кодировке UTF-8 или "
            "Windows-1251."
        )
    )


def _delimiter(text: str) -> str:
    lines = [line for line in text[:65536].splitlines() if line.strip()][:20]
    if not lines:
        raise ImportFileError(_("Файл пустой."))
    best, best_score = ",", -1
    for delim in (";", ",", "\t", "|"):
        counts = [line.count(delim) for line in lines]
        if not counts[0]:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = consistent * 100 + counts[0]
        if score > best_score:
            best, best_score = delim, score
    return best


@dataclass
class Sheet:
    """Rows of the first sheet, values only (str/float/int/date/bool)."""

    rows: Iterator[list]
    height: int


def open_sheet(path: str | Path, kind: str) -> Sheet:
    path = Path(path)
    if kind == "csv":
        text = _csv_text(path)
        delim = _delimiter(text)
        csv.field_size_limit(1024 * 1024)
        # Lines end in \n, \r\n or — Excel for Mac — a bare \r: the csv module
        # reads all three when the stream does not translate them (newline="").
        # The height is an upper bound (a quoted cell may span lines).
        height = max(text.count("\n"), text.count("\r")) + 1
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)

        def rows():
            try:
                yield from reader
            except csv.Error as exc:
                raise _csv_error(exc) from None

        return Sheet(rows(), height)
    import python_calamine as pc

    try:
        workbook = pc.CalamineWorkbook.from_path(str(path))
        if not workbook.sheet_names:
            raise ImportFileError(_("В файле нет листов."))
        sheet = workbook.get_sheet_by_index(0)
    except ImportFileError:
        raise
    except pc.PasswordError:
        raise ImportFileError(
            _("Файл защищён паролем. Снимите защиту и загрузите его снова.")
        ) from None
    except Exception as exc:  # calamine raises many types for broken files
        text = str(exc).lower()
        if "password" in text or "encrypt" in text:
            raise ImportFileError(
                _("Файл защищён паролем. Снимите защиту и загрузите его снова.")
            ) from None
        raise ImportFileError(_("Файл повреждён или это не таблица Excel.")) from None
    if sheet.width > 16384:
        raise ImportFileError(_not_spreadsheet())
    return Sheet(iter(sheet.iter_rows()), sheet.height)


# --- mapping ----


def _header_key(value) -> str:
    return _KEY_CLEAN.sub("", str(value).strip().lower().replace("ё", "е"))


def _is_phone(value) -> bool:
    if value in (None, ""):
        return False
    try:
        ph.normalize_phone(value)
    except ph.InvalidPhone:
        return False
    return True


def guess_mapping(
    rows: list[list], custom: dict[str, str]
) -> tuple[dict[int, str], bool]:
    """Map column numbers to field keys from the header row (Russian/English
    names, custom field names) or, without a header, from the values.
    Returns (mapping, has_header)."""
    if not rows:
        return {}, True
    header = rows[0]
    aliases = {alias: key for key, names in _HEADER_ALIASES.items() for alias in names}
    for key, name in custom.items():
        aliases.setdefault(_header_key(name), f"extra:{key}")
        aliases.setdefault(_header_key(key), f"extra:{key}")
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for index, cell in enumerate(header[:MAX_COLUMNS]):
        target = aliases.get(_header_key(cell)) if cell not in (None, "") else None
        if target and target not in used:
            mapping[index] = target
            used.add(target)
    has_header = bool(mapping) or not any(_is_phone(c) for c in header)
    if "phone" not in used:
        body = rows[1:] if has_header else rows
        best, best_hits = None, 0
        width = max((len(r) for r in body), default=0)
        for index in range(min(width, MAX_COLUMNS)):
            if index in mapping:
                continue
            hits = sum(1 for r in body if index < len(r) and _is_phone(r[index]))
            if hits > best_hits:
                best, best_hits = index, hits
        if best is not None:
            mapping[best] = "phone"
    return mapping, has_header


def read_preview(path: str | Path, kind: str) -> tuple[list[list[str]], int]:
    """The first rows for the mapping screen, and how many rows hold data —
    counted exactly, as the import will (blank rows do not count), so a .csv
    and an .xlsx of the same table say the same number."""
    sheet = open_sheet(path, kind)
    rows = []
    filled = 0
    for row in sheet.rows:
        if any(v not in (None, "") for v in row):
            filled += 1
        if len(rows) <= PREVIEW_ROWS:
            # Control characters (NUL…) cannot be stored in jsonb nor shown.
            rows.append([_CONTROL.sub(" ", _display(v)) for v in row[:MAX_COLUMNS]])
    if not rows or not any(any(c for c in r) for r in rows):
        raise ImportFileError(_("Файл пустой."))
    return rows, filled


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value).strip()[:200]


def normalize_mapping(raw, header: list, custom_keys: set[str]) -> dict[int, str]:
    """Validate a user/API mapping: {column number or header text: field key}."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise ImportFileError(_("Сопоставление колонок: неверный JSON.")) from None
    if not isinstance(raw, dict):
        raise ImportFileError(_("Сопоставление колонок должно быть объектом."))
    by_header = {_header_key(h): i for i, h in enumerate(header) if h not in (None, "")}
    allowed = set(FIELD_LABELS) | {f"extra:{k}" for k in custom_keys}
    mapping: dict[int, str] = {}
    for column, target in raw.items():
        target = (target or "").strip() if isinstance(target, str) else ""
        if not target:
            continue
        if target in custom_keys:
            target = f"extra:{target}"
        if target not in allowed:
            raise ImportFileError(_("Неизвестное поле «%(f)s».") % {"f": target})
        if isinstance(column, int) or str(column).strip().isdigit():
            index = int(column)
        else:
            index = by_header.get(_header_key(column))
            if index is None:
                raise ImportFileError(_("Нет колонки «%(c)s».") % {"c": column})
        if index >= MAX_COLUMNS:
            raise ImportFileError(_("Нет колонки %(c)s.") % {"c": column})
        if target in mapping.values():
            raise ImportFileError(
                _("Поле «%(f)s» выбрано для двух колонок.")
                % {"f": FIELD_LABELS.get(target, target)}
            )
        mapping[index] = target
    if "phone" not in mapping.values():
        raise ImportFileError(_("Выберите колонку с номером телефона."))
    return mapping


# --- value parsing ----

_DATE_FORMATS = (
    "%d.%m.%Y",
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d.%m.%y",
    "%d-%m-%Y",
    "%Y.%m.%d",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Backslash and control characters (NUL included, which PostgreSQL refuses in
# text); \x1f is left out because it separates values in _text_column.
_COPY_UNSAFE = re.compile(r"[\\\x00-\x1e\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GENDER = {
    "": "",
    "м": "m",
    "муж": "m",
    "мужской": "m",
    "m": "m",
    "male": "m",
    "man": "m",
    "ж": "f",
    "жен": "f",
    "женский": "f",
    "f": "f",
    "female": "f",
    "woman": "f",
    "w": "f",
}
_TRUE = {"1", "да", "yes", "true", "y", "д", "+", "есть", "x", "согласен", "1.0"}
_FALSE = {"", "0", "нет", "no", "false", "n", "н", "-", "0.0"}
_EMAIL = re.compile(r"^[^@\s\\]+@[^@\s\\]+\.[^@\s\\]+$")


class BadValue(ValueError):
    pass


def parse_date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 80000:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise BadValue(_("Дата рождения не распознана"))
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            date = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if date.year < 1900 or date > dt.date.today():
            raise BadValue(_("Неверная дата рождения"))
        return date
    raise BadValue(_("Дата рождения не распознана"))


def parse_gender(value) -> str:
    if value in (None, ""):
        return ""
    key = str(value).strip().lower().rstrip(".")
    if key in _GENDER:
        return _GENDER[key]
    raise BadValue(_("Пол не распознан (м/ж)"))


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    key = _display(value).lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise BadValue(_("Согласие: ожидается да/нет"))


def parse_email(value) -> str:
    text = _display(value)
    if text and not _EMAIL.match(text):
        raise BadValue(_("Неверный email"))
    return text[:254]


def clean_text(value, limit: int) -> str:
    if value is None:
        return ""
    text = value.strip() if type(value) is str else _display(value)
    if _COPY_UNSAFE.search(text) or _SEP in text:
        text = " ".join(_CONTROL.sub(" ", text.replace("\\", "/")).split())
    return text[:limit]


@dataclass
class ImportStats:
    total: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    invalid: int = 0
    errors: list = field(default_factory=list)


# --- the import itself ----
#
# The hot loop works on chunks of rows, column by column: each mapped column is
# cleaned with one list comprehension (no per-cell function dispatch), values
# that cannot be parsed become ``_Bad`` markers, and the COPY line of a row is
# a handful of string concatenations.  That keeps the Python side near the
# cost of normalising the phone, while PostgreSQL ingests the COPY stream on
# the other core.

_COPY_ORDER = (
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "gender",
    "email",
    "link",
    "consent",
)
_TEXT_LIMITS = {
    "last_name": 100,
    "first_name": 100,
    "middle_name": 100,
    "link": 500,
    "email": 254,
}
_COPY_COLUMNS = (
    "account_id",
    "group_id",
    "phone",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "gender",
    "email",
    "link",
    "consent",
    "operator",
    "country",
    "region",
    "timezone",
    "extra",
    "created_at",
)
_CHUNK = 4096
_FLUSH_EVERY = 4096
_SEP = "\x1f"


class _Bad:
    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def _date_cell(value):
    cls = value.__class__
    if cls is dt.date:
        return value
    if value is None or value == "":
        return None
    if cls is dt.datetime:
        return value.date()
    if cls is str and len(value) == 10 and value[2] == "." and value[5] == ".":
        try:
            date = dt.date(int(value[6:]), int(value[3:5]), int(value[:2]))
        except ValueError:
            return _Bad(_("Неверная дата рождения"))
        if date.year < 1900 or date > dt.date.today():
            return _Bad(_("Неверная дата рождения"))
        return date
    try:
        return parse_date(value)
    except BadValue as exc:
        return _Bad(str(exc))


def _checked(func):
    def cell(value):
        try:
            return func(value)
        except BadValue as exc:
            return _Bad(str(exc))

    return cell


_gender_cell = _checked(parse_gender)
_email_cell = _checked(parse_email)
_bool_cell = _checked(parse_bool)


def _text_column(values: list, limit: int) -> list[str]:
    out = [
        v.strip() if v.__class__ is str else ("" if v is None else _display(v))
        for v in values
    ]
    joined = _SEP.join(out)
    if _COPY_UNSAFE.search(joined) or _SEP in joined.replace(_SEP, "", len(out) - 1):
        out = [" ".join(_CONTROL.sub(" ", v.replace("\\", "/")).split()) for v in out]
    if max(map(len, out), default=0) > limit:
        out = [v[:limit] for v in out]
    return out


class _Columns:
    """The mapped columns of one chunk, cleaned and parsed."""

    def __init__(self, chunk: list[list], specs: list, fio_col: int | None):
        self.data: dict[str, list] = {}
        self.extra: dict[str, list[str]] = {}
        self.bad: dict[int, str] = {}
        for index, target in specs:
            raw = [r[index] if index < len(r) else None for r in chunk]
            if target.startswith("extra:"):
                self.extra[target[6:]] = _text_column(raw, 500)
                continue
            if target == "birth_date":
                values = [_date_cell(v) for v in raw]
            elif target == "gender":
                genders = _GENDER
                values = [
                    genders.get(v.strip().lower(), None) if v.__class__ is str else None
                    for v in raw
                ]
                values = [
                    g
                    if g is not None
                    else ("" if raw[i] in (None, "") else _gender_cell(raw[i]))
                    for i, g in enumerate(values)
                ]
            elif target == "email":
                match = _EMAIL.match
                values = [
                    e if not e or match(e) else _Bad(_("Неверный email"))
                    for e in _text_column(raw, 254)
                ]
            elif target == "consent":
                values = [_bool_cell(v) if v not in (None, "") else False for v in raw]
            else:
                values = _text_column(raw, _TEXT_LIMITS[target])
            if target in ("birth_date", "gender", "email", "consent"):
                for i, v in enumerate(values):
                    if v.__class__ is _Bad and i not in self.bad:
                        self.bad[i] = v.reason
            self.data[target] = values
        if fio_col is not None:
            names = _text_column(
                [r[fio_col] if fio_col < len(r) else None for r in chunk], 300
            )
            split = [n.split(None, 2) for n in names]
            for pos, name in enumerate(("last_name", "first_name", "middle_name")):
                if name not in self.data:
                    self.data[name] = [
                        p[pos][:100] if len(p) > pos else "" for p in split
                    ]

    def values(self, i: int) -> dict:
        return {name: col[i] for name, col in self.data.items()}

    def extra_of(self, i: int) -> dict:
        return {key: col[i] for key, col in self.extra.items() if col[i]}

    def copy_fields(self, size: int) -> list[str]:
        """Tab-joined last…consent columns of every row (COPY text format)."""
        empty = [""] * size
        data = self.data
        births = data.get("birth_date")
        births = (
            [b.isoformat() if b.__class__ is dt.date else "\\N" for b in births]
            if births
            else ["\\N"] * size
        )
        consent = data.get("consent")
        consent = (
            ["t" if c is True else "f" for c in consent] if consent else ["f"] * size
        )
        gender = data.get("gender")
        gender = [g if g.__class__ is str else "" for g in gender] if gender else empty
        email = data.get("email")
        email = [e if e.__class__ is str else "" for e in email] if email else empty
        return [
            "\t".join(t)
            for t in zip(
                data.get("last_name", empty),
                data.get("first_name", empty),
                data.get("middle_name", empty),
                births,
                gender,
                email,
                data.get("link", empty),
                consent,
                strict=True,
            )
        ]

    def extra_json(self, size: int) -> list[str]:
        if not self.extra:
            return ["{}"] * size
        keys = [(_json_str(k), col) for k, col in self.extra.items()]
        out = []
        for i in range(size):
            parts = [f"{k}: {_json_str(col[i])}" for k, col in keys if col[i]]
            out.append(_copy_text("{" + ", ".join(parts) + "}") if parts else "{}")
        return out


def _json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\")


class _Derived:
    """Operator/country/region/time zone of E.164 numbers, memoised per
    numbering-plan entry (a few hundred distinct values in a whole file)."""

    def __init__(self):
        from .plan import ensure_plan

        ensure_plan()
        self.plan = ph.default_plan()
        self.find = self.plan.find
        self.by_entry: dict[int, tuple] = {}
        self.ru_unknown = ("", "RU", "", ph.DEFAULT_TIMEZONE)

    def get(self, phone: str) -> tuple[str, str, str, str]:
        if len(phone) == 12 and phone[1] == "7":
            entry = self.find(phone[2:])
            if entry is not None:
                found = self.by_entry.get(id(entry))
                if found is None:
                    found = self.by_entry[id(entry)] = (
                        entry.brand[:64],
                        "RU",
                        entry.region[:100],
                        entry.timezone,
                    )
                return found
            if phone[2] == "9":
                # A Russian mobile range missing from the plan (what lookup()
                # answers too, without its slow path).
                return self.ru_unknown
        info = ph.lookup(phone, self.plan)
        return (
            info.operator[:64],
            info.country[:2],
            info.region[:100],
            info.timezone[:40],
        )


class _ErrorReport:
    """Rejected rows with reasons: the first ERRORS_KEPT in memory (for the job
    row and the API), all of them in a CSV next to the upload."""

    def __init__(self, path: Path, header: list | None):
        self.path = path
        self.kept: list[dict] = []
        self.count = 0
        self._file = None
        self._writer = None
        self._header = header

    def add(self, rownum: int, reason: str, row: list) -> None:
        self.count += 1
        if len(self.kept) < ERRORS_KEPT:
            self.kept.append({"row": rownum, "reason": reason})
        if self._writer is None:
            self._file = open(self.path, "w", encoding="utf-8-sig", newline="")
            # No cell of the file we hand back is a formula (the header and
            # values come from the user's file).
            self._writer = csv_writer(self._file, delimiter=";")
            head = [_("Строка"), _("Причина")]
            if self._header:
                head += [_display(h) for h in self._header[:MAX_COLUMNS]]
            self._writer.writerow(head)
        self._writer.writerow(
            [rownum, reason] + [_display(v) for v in row[:MAX_COLUMNS]]
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _chunks(rows: Iterator[list]) -> Iterator[list[list]]:
    chunk: list[list] = []
    append = chunk.append
    for row in rows:
        append(row)
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
            append = chunk.append
    if chunk:
        yield chunk


def run(job, *, progress=None) -> ImportStats:
    """Import the job's file into its group.  Call outside any transaction;
    the writes happen in one.  ``progress(processed)`` is called after every
    chunk.  Raises :class:`ImportFileError` for a bad file."""
    from django.db import connection, transaction

    from . import selectors
    from .models import Contact, Group

    custom_keys = {f.key for f in selectors.custom_fields(account_id=job.account_id)}
    sheet = open_sheet(job.path, job.kind)
    max_rows = getattr(settings, "CONTACTS_IMPORT_MAX_ROWS", 1_000_000)
    if sheet.height > max_rows + 1:
        raise ImportFileError(
            _("В файле больше %(n)s строк. Разделите его на части.") % {"n": max_rows}
        )
    rows = sheet.rows
    header = next(rows, None) if job.has_header else None
    mapping = normalize_mapping(
        {str(k): v for k, v in job.mapping.items()}, header or [], custom_keys
    )
    phone_col = next(i for i, t in mapping.items() if t == "phone")
    specs = sorted((i, t) for i, t in mapping.items() if t not in ("phone", "fio"))
    fio_col = next((i for i, t in mapping.items() if t == "fio"), None)
    mapped = {t for t in mapping.values() if t != "fio"}
    if fio_col is not None:
        mapped |= {"last_name", "first_name", "middle_name"}
    derived = _Derived()
    normalize_many = ph.normalize_many
    update = job.policy == "update"
    stats = ImportStats()
    report = _ErrorReport(Path(job.path).with_name(f"errors-{job.pk}.csv"), header)
    now = dt.datetime.now(dt.UTC)
    postgres = connection.vendor == "postgresql"
    rownum = 2 if job.has_header else 1

    try:
        with transaction.atomic():
            if postgres:
                # The import's WAL need not be flushed at this COMMIT: the job
                # row's commit right after flushes it (WAL is sequential), so
                # a job marked done is durable; a crash before that loses an
                # import whose job is still "running" and can be repeated.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            group = Group.objects.select_for_update().get(pk=job.group_id)
            existing: set[str] = set()
            if Contact.objects.filter(group_id=group.pk).exists():
                existing = set(
                    Contact.objects.filter(group_id=group.pk)
                    .values_list("phone", flat=True)
                    .iterator(chunk_size=50000)
                )
            seen: set[str] = set()
            updates: list[tuple[str, dict, dict]] = []
            writer = (
                _CopyWriter(connection, job.account_id, group.pk, now)
                if postgres
                else _OrmWriter(job.account_id, group.pk, now)
            )
            derive = derived.get
            with writer:
                for chunk in _chunks(rows):
                    cols = _Columns(chunk, specs, fio_col)
                    bad = cols.bad
                    accepted: list[tuple[int, str, tuple]] = []
                    accept = accepted.append
                    blank = dupes = 0
                    raws = [r[phone_col] if phone_col < len(r) else None for r in chunk]
                    normalized = normalize_many(raws)
                    for i, row in enumerate(chunk):
                        raw = raws[i]
                        if raw is None or raw == "":
                            if any(v not in (None, "") for v in row):
                                report.add(rownum + i, ph.REASON_EMPTY, row)
                            else:
                                blank += 1
                            continue
                        phone = normalized[i]
                        if phone.__class__ is not str:
                            report.add(rownum + i, phone.reason, row)
                            continue
                        if phone in seen:
                            dupes += 1
                            continue
                        if bad and i in bad:
                            report.add(rownum + i, bad[i], row)
                            continue
                        seen.add(phone)
                        if existing and phone in existing:
                            if update:
                                updates.append(
                                    (phone, cols.values(i), cols.extra_of(i))
                                )
                            else:
                                dupes += 1
                            continue
                        accept((i, phone, derive(phone)))
                    stats.total += len(chunk) - blank
                    stats.duplicates += dupes
                    if accepted:
                        writer.add_chunk(accepted, cols, len(chunk))
                    rownum += len(chunk)
                    if progress is not None:
                        progress(stats.total)
            stats.created = writer.count
            if stats.created:
                contacts_added.send(
                    sender=Contact,
                    account_id=job.account_id,
                    group_id=group.pk,
                    source="import",
                    created_at=now,
                )
            if updates:
                stats.updated = _apply_updates(group.pk, updates, mapped)
            Group.objects.filter(pk=group.pk).update(size=len(existing) + stats.created)
    finally:
        report.close()
    stats.invalid = report.count
    stats.errors = report.kept
    return stats


class _CopyWriter:
    """Streams new contacts into PostgreSQL with COPY (text format)."""

    def __init__(self, connection, account_id: int, group_id: int, now: dt.datetime):
        self.connection = connection
        self.prefix = f"{account_id}\t{group_id}\t"
        self.suffix = f"\t{now.isoformat()}\n"
        self.count = 0
        self.derived_text: dict[tuple, str] = {}

    def __enter__(self):
        self.connection.ensure_connection()
        self.cursor = self.connection.connection.cursor()
        # A worker thread sends the data and waits on the socket while this
        # thread keeps parsing: the server's indexing overlaps with our work.
        from psycopg.copy import QueuedLibpqWriter

        self.copy_cm = self.cursor.copy(
            f"COPY contacts_contact ({', '.join(_COPY_COLUMNS)}) FROM STDIN",
            writer=QueuedLibpqWriter(self.cursor),
        )
        self.copy = self.copy_cm.__enter__()
        return self

    def add_chunk(self, accepted: list, cols: _Columns, size: int) -> None:
        fields = cols.copy_fields(size)
        extra = cols.extra_json(size)
        texts = self.derived_text
        prefix, suffix = self.prefix, self.suffix
        lines = []
        for i, phone, derived in accepted:
            text = texts.get(derived)
            if text is None:
                text = texts[derived] = "\t".join(
                    " ".join(d.replace("\\", "/").split()) for d in derived
                )
            lines.append(f"{prefix}{phone}\t{fields[i]}\t{text}\t{extra[i]}{suffix}")
        self.copy.write("".join(lines))
        self.count += len(lines)

    def __exit__(self, exc_type, exc, tb):
        try:
            self.copy_cm.__exit__(exc_type, exc, tb)
        finally:
            self.cursor.close()
        return False


class _OrmWriter:
    """The portable path (SQLite and others): bulk_create per chunk."""

    def __init__(self, account_id: int, group_id: int, now: dt.datetime):
        self.account_id, self.group_id, self.now = account_id, group_id, now
        self.count = 0

    def __enter__(self):
        return self

    def add_chunk(self, accepted: list, cols: _Columns, size: int) -> None:
        from .models import Contact

        batch = []
        for i, phone, derived in accepted:
            values = {
                k: (v if v.__class__ is not _Bad else None)
                for k, v in cols.values(i).items()
            }
            batch.append(
                Contact(
                    account_id=self.account_id,
                    group_id=self.group_id,
                    phone=phone,
                    operator=derived[0],
                    country=derived[1],
                    region=derived[2],
                    timezone=derived[3],
                    extra=cols.extra_of(i),
                    created_at=self.now,
                    **values,
                )
            )
        Contact.objects.bulk_create(batch, batch_size=1000)
        self.count += len(batch)

    def __exit__(self, exc_type, exc, tb):
        return False


def _apply_updates(group_id: int, updates: list, mapped: set[str]) -> int:
    """Overwrite mapped fields of existing contacts with the file's non-empty
    values (duplicate policy "update"); custom fields are merged."""
    from .models import Contact

    fields = [f for f in _COPY_ORDER if f in mapped]
    by_phone = {phone: (values, extra) for phone, values, extra in updates}
    phones = list(by_phone)
    for start in range(0, len(phones), 2000):
        changed = []
        for contact in Contact.objects.filter(
            group_id=group_id, phone__in=phones[start : start + 2000]
        ):
            values, extra = by_phone[contact.phone]
            for name in fields:
                value = values.get(name)
                if value not in (None, "") and value.__class__ is not _Bad:
                    setattr(contact, name, value)
            if extra:
                contact.extra = {**(contact.extra or {}), **extra}
            changed.append(contact)
        if changed:
            Contact.objects.bulk_update(changed, fields + ["extra"], batch_size=500)
    return len(updates)
