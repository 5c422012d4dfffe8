"""Phone-number normalisation, extraction from free text and numbering-plan lookup.

Pure Python on purpose: contact imports, the API and Celery workers all call
this on hundreds of thousands of values, so nothing here touches Django or the
database.  The Django layer plugs a database-backed plan in through
:func:`set_plan`.

Public API
----------
``normalize_phone(raw, default_region="RU") -> str``
    E.164 string or :class:`InvalidPhone` with a Russian ``reason``.
``extract_phones(text, default_region="RU") -> (phones, rejected)``
    Every number in free text, normalised and de-duplicated, plus the raw
    fragments that looked like numbers but did not validate.
``lookup(e164) -> PhoneInfo``
    Country, operator brand, region and IANA time zone of a number.
``NumberingPlan`` / ``parse_registry_csv`` / ``default_plan`` / ``set_plan``
    The Russian range table (registry CSV layout) behind ``lookup``.
``operator_brand(registry_name)`` / ``region_timezone(region)``
    Display helpers shared with the plan loader.

Why a fast path: ``phonenumbers.parse`` + ``is_valid_number`` costs ~15-40 µs
per call, which caps a 1M-row import at half a minute of CPU.  Nearly all input
is Russian mobile numbers in a handful of notations, so those are recognised
with one precompiled regex and ``str.translate`` and checked against the
*same* mobile pattern phonenumbers uses (read from its metadata at import), so
the two paths cannot drift apart when the library is upgraded.  Everything
else (landlines, foreign numbers, errors) goes through phonenumbers.

Bundled data: ``contacts/data/numbering_plan_ru.csv`` is a hand-made subset of
the Минцифры «Реестр российской системы и плана нумерации» (DEF 9xx mobile
ranges of the big operators, a few hundred rows) so lookups work out of the
box.  It is *not* the full registry: ``manage.py load_numbering_plan FILE``
loads the official DEF-9xx.csv / ABC-*.csv into the database, and the Django
layer then installs that plan with :func:`set_plan`.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, NamedTuple

import phonenumbers
from django.utils.translation import gettext_lazy
from phonenumbers import (
    NumberParseException,
    PhoneMetadata,
    PhoneNumberFormat,
    ValidationResult,
)

# Country names for display (tariffs, reports), translated lazily: a module
# used without Django settings (the phone benchmarks) never evaluates them.
COUNTRY_NAMES = {
    "RU": gettext_lazy("Россия"),
    "KZ": gettext_lazy("Казахстан"),
    "BY": gettext_lazy("Беларусь"),
    "UA": gettext_lazy("Украина"),
    "UZ": gettext_lazy("Узбекистан"),
    "KG": gettext_lazy("Киргизия"),
    "TJ": gettext_lazy("Таджикистан"),
    "AM": gettext_lazy("Армения"),
    "AZ": gettext_lazy("Азербайджан"),
    "GE": gettext_lazy("Грузия"),
    "MD": gettext_lazy("Молдова"),
    "TM": gettext_lazy("Туркменистан"),
}


def country_name(code: str) -> str:
    """The country's name in the active language; the code itself if unknown."""
    return str(COUNTRY_NAMES[code]) if code in COUNTRY_NAMES else code


__all__ = [
    "BUNDLED_PLAN_PATH",
    "InvalidPhone",
    "NumberRange",
    "NumberingPlan",
    "PhoneInfo",
    "PlanEntry",
    "default_plan",
    "extract_phones",
    "lookup",
    "normalize_many",
    "normalize_phone",
    "operator_brand",
    "parse_registry_csv",
    "region_timezone",
    "set_plan",
]

BUNDLED_PLAN_PATH = Path(__file__).resolve().parent / "data" / "numbering_plan_ru.csv"

# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

REASON_EMPTY = "Пустое значение"
REASON_NOT_A_NUMBER = "Это не номер телефона"
REASON_TOO_SHORT = "Слишком мало цифр"
REASON_TOO_LONG = "Слишком много цифр"
REASON_BAD_COUNTRY = "Неверный код страны"
REASON_BAD_LENGTH = "Неверное количество цифр"
REASON_NOT_EXIST = "Номер не существует"

_REASON_CODES = {
    REASON_EMPTY: "empty",
    REASON_NOT_A_NUMBER: "not_a_number",
    REASON_TOO_SHORT: "too_short",
    REASON_TOO_LONG: "too_long",
    REASON_BAD_COUNTRY: "invalid_country_code",
    REASON_BAD_LENGTH: "invalid_length",
    REASON_NOT_EXIST: "not_exist",
}


class InvalidPhone(ValueError):
    """A value that cannot be turned into an E.164 number.

    ``reason`` is shown to customers as is (import reports, form errors), so it
    is Russian and free of library jargon; ``code`` is a stable machine key for
    Django ``ValidationError(code=...)`` and API error payloads.  Subclassing
    ``ValueError`` lets callers that only care about "bad input" catch it
    generically.
    """

    def __init__(self, reason: str, value: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = _REASON_CODES.get(reason, "invalid")
        self.value = value

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self):
        # Keep the exception picklable (Celery results) despite the extra args.
        return (type(self), (self.reason, self.value))


# ---------------------------------------------------------------------------
# normalize_phone
# ---------------------------------------------------------------------------

# Same mobile pattern phonenumbers validates RU numbers against, so the fast
# path accepts exactly what the slow path would accept as a Russian mobile.
_RU_MOBILE = re.compile(
    PhoneMetadata.metadata_for_region("RU").mobile.national_number_pattern
)
# Shapes the fast path is allowed to handle: ASCII digits with the usual
# grouping punctuation and an optional leading "+".  Anything else (letters,
# unicode digits, extensions, "00"/"810" prefixes) falls to phonenumbers.
_FAST_SHAPE = re.compile(r"\+?[0-9 ()\-.\u00a0]{10,30}")
_FAST_DELETE = str.maketrans("", "", " ()-.\u00a0+")
_NON_DIGIT = re.compile(r"\D+")
_LETTER = re.compile(r"[^\W\d_]")
_EXCEL_FLOAT = re.compile(r"(\+?\d{5,})\.0+")
_EXCEL_SCI = re.compile(r"\d(?:[.,]\d+)?[eE]\+?\d{1,2}")
_PLUS_FIRST = re.compile(r"[\s(\[]*[+\uff0b]")

_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: REASON_BAD_COUNTRY,
    NumberParseException.NOT_A_NUMBER: REASON_NOT_A_NUMBER,
    NumberParseException.TOO_SHORT_AFTER_IDD: REASON_TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: REASON_TOO_SHORT,
    NumberParseException.TOO_LONG: REASON_TOO_LONG,
}
_RU_NATIONAL_LENGTH = 10


def normalize_phone(raw: str | int | float, default_region: str = "RU") -> str:
    """Return ``raw`` as an E.164 string (``+79161234567``).

    Accepts every notation customers paste or export from Excel: ``8 (916)
    123-45-67``, ``+7 916 1234567``, ``9161234567``, dotted groups, numbers read
    as ``79161234567.0`` / ints / floats, foreign numbers with ``+``, ``00`` or
    the Russian ``810`` international prefix.  ``default_region`` is the
    country assumed for numbers written without a country code.

    Raises :class:`InvalidPhone` with a customer-readable ``reason``.
    """
    if default_region != "RU":
        default_region = (default_region or "").upper()
    text = _coerce(raw)
    fast = _fast_ru(text, default_region)
    if fast is not None:
        return fast
    return _normalize_with_phonenumbers(text, default_region, raw)


def normalize_many(values: Iterable[object], default_region: str = "RU") -> list:
    """:func:`normalize_phone` over many values (an import column): a list with
    the E.164 string or the :class:`InvalidPhone` for each value.

    Same results as calling :func:`normalize_phone` one by one (the Russian
    fast path is inlined for text and whole-number cells, everything else
    goes through it), at a fraction of the per-value call overhead.
    """
    if default_region != "RU":
        return [_normalize_or_error(v, default_region) for v in values]
    shape = _FAST_SHAPE.fullmatch
    delete = _FAST_DELETE
    mobile = _RU_MOBILE.fullmatch
    out: list = []
    append = out.append
    for raw in values:
        cls = raw.__class__
        if cls is str:
            text = raw.strip()
        elif cls is float and raw.is_integer() and raw > 0:
            text = str(int(raw))
        elif cls is int and raw > 0:
            text = str(raw)
        else:
            append(_normalize_or_error(raw, default_region))
            continue
        national = None
        if shape(text):
            digits = text.translate(delete)
            plus = text[0] == "+"
            if len(digits) == 11:
                first = digits[0]
                if first == "7" or (first == "8" and not plus):
                    national = digits[1:]
            elif len(digits) == 10 and not plus and digits[0] == "9":
                national = digits
        if national is not None and mobile(national):
            append("+7" + national)
        else:
            append(_normalize_or_error(raw, default_region))
    return out


def _normalize_or_error(raw: object, region: str):
    try:
        return normalize_phone(raw, region)
    except InvalidPhone as exc:
        return exc


def _coerce(raw: object) -> str:
    """Turn spreadsheet cell values into the string that was meant.

    Excel and pandas hand over phone columns as floats (``79161234567.0``),
    ints, scientific notation (``7.9161234567E+10``) or text with a leading
    apostrophe; all of those are the same number to the customer.
    """
    if isinstance(raw, str):
        text = raw.strip()
    elif raw is None:
        raise InvalidPhone(REASON_EMPTY, raw)
    elif isinstance(raw, bool):
        raise InvalidPhone(REASON_NOT_A_NUMBER, raw)
    elif isinstance(raw, int):
        return str(raw)
    elif isinstance(raw, float):
        if math.isnan(raw):
            raise InvalidPhone(REASON_EMPTY, raw)
        if not raw.is_integer():
            raise InvalidPhone(REASON_NOT_A_NUMBER, raw)
        return str(int(raw))
    elif isinstance(raw, Decimal):
        if raw.is_nan():
            raise InvalidPhone(REASON_EMPTY, raw)
        if not raw.is_finite() or raw != raw.to_integral_value():
            raise InvalidPhone(REASON_NOT_A_NUMBER, raw)
        return str(int(raw))
    else:
        raise InvalidPhone(REASON_NOT_A_NUMBER, raw)
    if not text:
        raise InvalidPhone(REASON_EMPTY, raw)
    if text[0] == "'":  # Excel's "store as text" marker
        text = text[1:].strip()
        if not text:
            raise InvalidPhone(REASON_EMPTY, raw)
    if text[-1] == "0" and "." in text:
        match = _EXCEL_FLOAT.fullmatch(text)
        if match:
            return match.group(1)
    if ("E" in text or "e" in text) and _EXCEL_SCI.fullmatch(text):
        try:
            value = Decimal(text.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - regex already vetted it
            raise InvalidPhone(REASON_NOT_A_NUMBER, raw) from None
        if value == value.to_integral_value():
            return str(int(value))
    return text


def _fast_ru(text: str, region: str) -> str | None:
    """Russian mobile numbers in common notations, without phonenumbers.

    Returns ``None`` whenever the input is anything but an unambiguous valid
    Russian mobile number, so the caller falls back to the full parser and the
    result (value or error) is the one phonenumbers would give.
    """
    if not _FAST_SHAPE.fullmatch(text):
        return None
    digits = text.translate(_FAST_DELETE)
    plus = text[0] == "+"
    if len(digits) == 11:
        first = digits[0]
        if first == "7":
            if not plus and region != "RU":
                return None
        elif first != "8" or plus or region != "RU":
            return None
        national = digits[1:]
    elif len(digits) == 10 and not plus and region == "RU" and digits[0] == "9":
        national = digits
    else:
        return None
    if _RU_MOBILE.fullmatch(national):
        return "+7" + national
    return None


def _normalize_with_phonenumbers(text: str, region: str, raw: object = None) -> str:
    """The general path: phonenumbers parsing plus Russian-friendly reasons."""
    if _LETTER.search(text):
        raise InvalidPhone(REASON_NOT_A_NUMBER, raw)
    digits = _NON_DIGIT.sub("", text)
    if not digits:
        raise InvalidPhone(REASON_EMPTY, raw)
    plus = _PLUS_FIRST.match(text) is not None
    to_parse = text
    if not plus:
        # phonenumbers only knows "810" as Russia's exit code; customers also
        # write the European "00".  Both mean "a country code follows".
        if digits.startswith("00"):
            to_parse, plus = "+" + digits[2:], True
        elif region == "RU" and digits.startswith("810") and len(digits) > 11:
            to_parse, plus = "+" + digits[3:], True
    try:
        number = phonenumbers.parse(to_parse, region)
    except NumberParseException as exc:
        raise InvalidPhone(
            _PARSE_ERRORS.get(exc.error_type, REASON_NOT_A_NUMBER), raw
        ) from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        raise InvalidPhone(_impossible_reason(possible, number), raw)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_invalid_reason(number, digits, plus, region), raw)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _impossible_reason(result: int, number: phonenumbers.PhoneNumber) -> str:
    if result in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return REASON_TOO_SHORT
    if result == ValidationResult.TOO_LONG:
        return REASON_TOO_LONG
    if result == ValidationResult.INVALID_COUNTRY_CODE:
        return REASON_BAD_COUNTRY
    # INVALID_LENGTH: a length between two allowed ones.  "Too many/few" is far
    # more useful to a customer than "wrong length", so decide by the range.
    national_len = len(str(number.national_number))
    if number.country_code == 7:
        lengths: tuple[int, ...] = (_RU_NATIONAL_LENGTH,)
    else:
        region = phonenumbers.region_code_for_country_code(number.country_code)
        meta = PhoneMetadata.metadata_for_region_or_calling_code(
            number.country_code, region
        )
        lengths = tuple(meta.general_desc.possible_length) if meta else ()
    if lengths and national_len > max(lengths):
        return REASON_TOO_LONG
    if lengths and national_len < min(lengths):
        return REASON_TOO_SHORT
    return REASON_BAD_LENGTH


def _invalid_reason(
    number: phonenumbers.PhoneNumber, digits: str, plus: bool, region: str
) -> str:
    # "8 916 123 45 6" parses as the 10-digit national number 8916123456,
    # which is merely "invalid" to phonenumbers; a Russian customer simply
    # dropped a digit, so say so.
    if number.country_code == 7 and not plus and region == "RU":
        if len(digits) < _RU_NATIONAL_LENGTH or (
            len(digits) == _RU_NATIONAL_LENGTH and digits[0] in "78"
        ):
            return REASON_TOO_SHORT
        if len(digits) > _RU_NATIONAL_LENGTH + 1:
            return REASON_TOO_LONG
    return REASON_NOT_EXIST


# ---------------------------------------------------------------------------
# extract_phones
# ---------------------------------------------------------------------------

# One scan over the whole text.  A candidate starts with a digit (optionally
# "+" or "(" before it), ends with a digit, and has at most three separator
# characters between consecutive digits.  Newlines, commas, semicolons, "/"
# and letters end a candidate; a dot only joins digits when a digit follows
# immediately, so "…45-67. Или…" ends at 67.
_CANDIDATE = re.compile(
    r"(?<![\d+])(?:\+[ \u00a0]?|\([ \u00a0]?)?\d"
    r"(?:(?:[ \t\u00a0\u2009\u202f]|[-\u2010-\u2015\u2212]|\.(?=\d)|[()]){0,3}\d)*"
)
_TOKEN = re.compile(r"[^ \t\u00a0\u2009\u202f]+")
_PHONE_GROUPING = re.compile(
    r"\d{3}[-\u2010-\u2015\u2212]\d{2}[-\u2010-\u2015\u2212]\d{2}"
)
_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}([./-])\d{1,2}\2\d{1,2}")
_MAX_E164_DIGITS = 15
_MIN_DIGITS_PLUS = 7
_MIN_DIGITS_BARE = 9
_MIN_DIGITS_GROUPED = 7
_MAX_SEGMENT_TOKENS = 12


def extract_phones(
    text: str, default_region: str = "RU"
) -> tuple[list[str], list[str]]:
    """Find every phone number in free text.

    Returns ``(phones, rejected)``: E.164 numbers de-duplicated in first-seen
    order, and the raw fragments that looked like phone numbers but failed
    validation (also de-duplicated), so an import screen can show the customer
    what was skipped.  Digits inside prose («заказ 12345 от 15.01») are noise
    and ignored; digits standing alone in a list item — a line, or an entry
    between commas or semicolons, as someone pasting numbers writes them — are
    meant as a number, so a short one («12345») is reported as rejected.

    Built for pasted lists of 100k lines: a single regex pass over the text and
    the fast ``normalize_phone`` path per candidate, rather than
    ``PhoneNumberMatcher`` per line.  Candidates glued together by spaces
    ("89161234567 89031112233") are split back into numbers.
    """
    phones: dict[str, None] = {}
    rejected: dict[str, None] = {}
    for match in _CANDIDATE.finditer(text):
        fragment = match.group()
        digits = _NON_DIGIT.sub("", fragment)
        if not _looks_like_phone(fragment, digits):
            if _stands_alone(text, match.start(), match.end()):
                rejected.setdefault(fragment)
            continue
        try:
            phones.setdefault(_normalize_candidate(fragment, digits, default_region))
        except InvalidPhone as exc:
            if (
                len(digits) > _MAX_E164_DIGITS or exc.code == "too_long"
            ) and _TOKEN.search(fragment, _TOKEN.match(fragment).end()):
                _split_glued(fragment, default_region, phones, rejected)
            else:
                rejected.setdefault(fragment)
    return list(phones), list(rejected)


_ITEM_END = "\n\r,;"


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a whole list item: only blanks between it
    and the line's (or the comma/semicolon-separated entry's) edges."""
    i = start - 1
    while i >= 0 and text[i] in " \t\u00a0":
        i -= 1
    if i >= 0 and text[i] not in _ITEM_END:
        return False
    j = end
    while j < len(text) and text[j] in " \t\u00a0":
        j += 1
    return j >= len(text) or text[j] in _ITEM_END


def _looks_like_phone(fragment: str, digits: str) -> bool:
    """Drop dates, amounts and short codes before spending a parse on them."""
    count = len(digits)
    if fragment[0] == "+":
        return count >= _MIN_DIGITS_PLUS
    if count >= _MIN_DIGITS_BARE:
        return not _DATE.fullmatch(fragment)
    if count >= _MIN_DIGITS_GROUPED and _PHONE_GROUPING.search(fragment):
        return not _DATE.fullmatch(fragment)
    return False


def _normalize_candidate(fragment: str, digits: str, region: str) -> str:
    # A bare run of exactly 10 digits that is not a 9xx mobile is far more
    # often an ИНН, account or order number than a phone written without its
    # trunk prefix (and phonenumbers would read 77xx… as Kazakhstan).
    if (
        region == "RU"
        and len(digits) == _RU_NATIONAL_LENGTH
        and digits[0] != "9"
        and len(fragment) == _RU_NATIONAL_LENGTH
    ):
        raise InvalidPhone(REASON_NOT_A_NUMBER, fragment)
    return normalize_phone(fragment, region)


def _split_glued(
    fragment: str,
    region: str,
    phones: dict[str, None],
    rejected: dict[str, None],
) -> None:
    """Split a run like "8 916 123 45 67 8 903 111 22 33" into numbers.

    Greedy longest match over whitespace-separated tokens: from each position
    take the longest run of tokens (at most 15 digits) that normalises.
    Tokens that start no number are reported together as one rejected piece.
    """
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(fragment)]
    counts = [len(_NON_DIGIT.sub("", fragment[start:end])) for start, end in spans]
    pending_start: int | None = None
    pending_end = 0
    i = 0
    while i < len(spans):
        found: tuple[int, str] | None = None
        total = 0
        ends: list[int] = []
        for j in range(i, min(len(spans), i + _MAX_SEGMENT_TOKENS)):
            total += counts[j]
            if total > _MAX_E164_DIGITS:
                break
            if total >= _MIN_DIGITS_PLUS:
                ends.append(j + 1)
        for j in reversed(ends):
            piece = fragment[spans[i][0] : spans[j - 1][1]]
            try:
                phone = _normalize_candidate(piece, _NON_DIGIT.sub("", piece), region)
            except InvalidPhone:
                continue
            found = (j, phone)
            break
        if found is None:
            if pending_start is None:
                pending_start = spans[i][0]
            pending_end = spans[i][1]
            i += 1
            continue
        if pending_start is not None:
            rejected.setdefault(fragment[pending_start:pending_end])
            pending_start = None
        i, phone = found
        phones.setdefault(phone)
    if pending_start is not None:
        rejected.setdefault(fragment[pending_start:pending_end])


# ---------------------------------------------------------------------------
# Operator brands and region time zones
# ---------------------------------------------------------------------------

_BRANDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), brand)
    for pattern, brand in (
        (r"мобильные\s*телесистемы|\bмтс\b|\bmts\b", "МТС"),
        (r"мегафон|megafon", "МегаФон"),
        (r"вымпел|билайн|beeline", "Билайн"),
        (r"т2\s*мобайл|\bt2\b|tele\s*2|теле\s*2", "Tele2"),
        (r"скартел|\byota\b|\bйота\b", "Yota"),
        (r"екатеринбург-2000|\bмотив\b", "Мотив"),
        (r"сбербанк-телеком|сбермобайл", "СберМобайл"),
        (r"тинькофф\s*мобайл|т-мобайл", "Т-Мобайл"),
        (r"транстелеком", "ТТК"),
        (r"ростелеком", "Ростелеком"),
        (r"к-телеком", "Win mobile"),
        (r"ктк\s*телеком", "Волна мобайл"),
        (r"таттелеком|\bлетай\b", "Летай"),
        (r"вайнах\s*телеком", "Вайнах Телеком"),
        (r"газпром\s*телеком", "Газпром телеком"),
        (r"межрегиональный\s*транзиттелеком|\bмтт\b", "МТТ"),
    )
)
_LEGAL_FORM = re.compile(
    r"^(?:пао|оао|зао|ао|ооо|нао|одо|фгуп|гуп|муп|ип|филиал)\s+", re.IGNORECASE
)
_QUOTES = "\"'«»„“”`"


@lru_cache(maxsize=4096)
def operator_brand(registry_name: str) -> str:
    """Short brand customers know ("МТС") for a registry legal name.

    The registry lists licence holders (ПАО "Мобильные ТелеСистемы", ООО "Т2
    Мобайл"); reports and filters should show the brand instead.  Unknown
    operators keep their name without the legal form and quotes.
    """
    name = " ".join(registry_name.split())
    lowered = name.lower().replace("ё", "е")
    for pattern, brand in _BRANDS:
        if pattern.search(lowered):
            return brand
    cleaned = name
    while True:
        stripped = _LEGAL_FORM.sub("", cleaned)
        if stripped == cleaned:
            break
        cleaned = stripped
    cleaned = " ".join(cleaned.translate(str.maketrans("", "", _QUOTES)).split())
    return cleaned or name


DEFAULT_TIMEZONE = "Europe/Moscow"

# Keyword → zone, checked in order; a keyword must start a word of the
# lower-cased region name (else "Костромская" would contain "омск").  Order
# matters where one keyword starts another: "сахалин" before "саха",
# Khabarovsk's "комсомольск-на-амуре" before "амур".  Subjects not listed (most
# of European Russia) are on Moscow time, which is the default.
_REGION_ZONES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("москв", "московск", "санкт-петербург", "ленинград"), "Europe/Moscow"),
    (("калининград",), "Europe/Kaliningrad"),
    (("крым", "севастопол", "симферопол"), "Europe/Simferopol"),
    (("самар", "тольятти", "удмурт", "ижевск"), "Europe/Samara"),
    (("астрахан",), "Europe/Astrakhan"),
    (("саратов",), "Europe/Saratov"),
    (("ульяновск",), "Europe/Ulyanovsk"),
    (("волгоград",), "Europe/Volgograd"),
    (("киров",), "Europe/Kirov"),
    (
        (
            "ямал",
            "салехард",
            "уренгой",
            "ханты",
            "югра",
            "сургут",
            "нижневартовск",
            "тюмен",
            "свердлов",
            "екатеринбург",
            "челяб",
            "курган",
            "оренбург",
            "перм",
            "башк",
            "уфа",
        ),
        "Asia/Yekaterinburg",
    ),
    (("томск",), "Asia/Tomsk"),
    (("омск",), "Asia/Omsk"),
    (("новосибирск",), "Asia/Novosibirsk"),
    (("алтай", "барнаул"), "Asia/Barnaul"),
    (("кемеров", "кузбасс", "новокузнецк"), "Asia/Novokuznetsk"),
    (
        ("красноярск", "норильск", "хакас", "абакан", "тыва", "тува", "кызыл"),
        "Asia/Krasnoyarsk",
    ),
    (("иркутск", "братск", "бурят", "улан-удэ"), "Asia/Irkutsk"),
    (("забайкал", "чита"), "Asia/Chita"),
    (
        (
            "хабаровск",
            "комсомольск-на-амуре",
            "приморский",
            "владивосток",
            "еврейск",
            "биробиджан",
        ),
        "Asia/Vladivostok",
    ),
    (("сахалин",), "Asia/Sakhalin"),
    (("саха", "якут", "амур", "благовещенск"), "Asia/Yakutsk"),
    (("магадан",), "Asia/Magadan"),
    (("камчат",), "Asia/Kamchatka"),
    (("чукот", "анадыр"), "Asia/Anadyr"),
)

_REGION_PATTERNS = tuple(
    (re.compile(r"\b(?:" + "|".join(map(re.escape, keywords)) + ")"), zone)
    for keywords, zone in _REGION_ZONES
)


@lru_cache(maxsize=4096)
def region_timezone(region: str) -> str:
    """IANA zone for a Russian region name as written in the registry.

    Used to avoid sending SMS at 3 a.m. local time; registry names vary
    ("г. Москва и Московская обл.", "Республика Саха /Якутия/"), so matching is
    by keyword.  Unknown or federal-level names get Moscow time.
    """
    lowered = region.lower().replace("ё", "е")
    for pattern, zone in _REGION_PATTERNS:
        if pattern.search(lowered):
            return zone
    return DEFAULT_TIMEZONE


# ---------------------------------------------------------------------------
# Numbering plan
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    """What is known about a number: for routing, pricing and send windows."""

    e164: str
    country: str
    operator: str
    region: str
    timezone: str


class NumberRange(NamedTuple):
    """One registry row: numbers ``prefix`` ``start``..``end`` (7-digit parts).

    Also the row shape the Django loader stores and feeds back into
    :class:`NumberingPlan`.
    """

    prefix: int
    start: int
    end: int
    operator: str
    region: str
    inn: str = ""


class PlanEntry(NamedTuple):
    """Per-range payload, computed once per distinct operator/region pair."""

    operator: str
    brand: str
    region: str
    timezone: str
    inn: str


_SUBSCRIBER_SPAN = 10**7  # numbers per ABC/DEF code


class NumberingPlan:
    """Russian numbering ranges with ``bisect`` lookups.

    Per 3-digit ABC/DEF prefix the ranges are kept as parallel sorted lists of
    starts/ends plus the shared :class:`PlanEntry`, so a lookup is one dict hit
    and one ``bisect`` over a few hundred ints (the full DEF registry has ~1k
    ranges per prefix at most).  Adjacent ranges with the same operator and
    region are merged, which shrinks the official file considerably.
    """

    __slots__ = ("_index", "_size")

    def __init__(self, ranges: Iterable[NumberRange | tuple | Mapping] = ()) -> None:
        entries: dict[tuple[str, str, str], PlanEntry] = {}
        by_prefix: dict[int, list[tuple[int, int, PlanEntry]]] = {}
        for row in ranges:
            if isinstance(row, NumberRange):
                item = row
            elif isinstance(row, Mapping):  # e.g. QuerySet.values()
                item = NumberRange(**row)
            else:
                item = NumberRange(*row)
            prefix, start, end = int(item.prefix), int(item.start), int(item.end)
            if not 0 <= start <= end < _SUBSCRIBER_SPAN or not 0 <= prefix < 1000:
                raise ValueError(f"Неверный диапазон номеров: {item!r}")
            key = (item.operator, item.region, item.inn)
            entry = entries.get(key)
            if entry is None:
                entry = entries[key] = PlanEntry(
                    item.operator,
                    operator_brand(item.operator),
                    item.region,
                    region_timezone(item.region),
                    item.inn,
                )
            by_prefix.setdefault(prefix, []).append((start, end, entry))

        self._index: dict[int, tuple[list[int], list[int], list[PlanEntry]]] = {}
        self._size = 0
        for prefix, rows in by_prefix.items():
            rows.sort(key=lambda r: (r[0], r[1]))
            starts: list[int] = []
            ends: list[int] = []
            payload: list[PlanEntry] = []
            for start, end, entry in rows:
                if ends and start <= ends[-1]:
                    # Overlap (only in hand-edited files): first range wins.
                    if end <= ends[-1]:
                        continue
                    start = ends[-1] + 1
                if ends and start == ends[-1] + 1 and payload[-1] is entry:
                    ends[-1] = end
                    continue
                starts.append(start)
                ends.append(end)
                payload.append(entry)
            self._index[prefix] = (starts, ends, payload)
            self._size += len(starts)

    @classmethod
    def from_csv(cls, source: str | os.PathLike | IO) -> NumberingPlan:
        """Build a plan from a registry CSV (path or open file)."""
        return cls(parse_registry_csv(source))

    def __len__(self) -> int:
        """Number of (merged) ranges."""
        return self._size

    def prefixes(self) -> list[int]:
        """Sorted ABC/DEF codes covered by the plan."""
        return sorted(self._index)

    def find(self, national: str | int) -> PlanEntry | None:
        """Entry for a 10-digit Russian national number, or ``None``."""
        prefix, subscriber = divmod(int(national), _SUBSCRIBER_SPAN)
        table = self._index.get(prefix)
        if table is None:
            return None
        starts, ends, payload = table
        pos = bisect.bisect_right(starts, subscriber) - 1
        if pos >= 0 and subscriber <= ends[pos]:
            return payload[pos]
        return None


_HEADER_ALIASES = {
    "код": "prefix",
    "от": "start",
    "до": "end",
    "емкость": "capacity",
    "оператор": "operator",
    "регион": "region",
    "территориягар": "gar",
    "инн": "inn",
}
# "АВС/ DEF" is typed with Cyrillic А, В, С in the official files and with
# Latin letters in hand-made ones; compare it with the look-alikes folded.
_PREFIX_HEADERS = {"abc/def", "abc", "def"}
_FOLD_LOOKALIKES = str.maketrans("авсе", "abce")
_POSITIONAL = ("prefix", "start", "end", "capacity", "operator", "region")


def _read_text(source: str | os.PathLike | IO) -> str:
    """Read the registry file, detecting its encoding.

    The official files have been published as cp1251 (old rossvyaz.ru), UTF-8
    and UTF-8 with BOM (opendata.digital.gov.ru, or after a pass through
    Excel), with no charset marker; a strict UTF-8 decode that fails means
    cp1251.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            data = handle.read()
    else:
        data = source.read()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _header_columns(row: list[str]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for index, cell in enumerate(row):
        key = "".join(cell.lower().replace("ё", "е").split()).lstrip("\ufeff")
        if key.translate(_FOLD_LOOKALIKES) in _PREFIX_HEADERS:
            name: str | None = "prefix"
        else:
            name = _HEADER_ALIASES.get(key)
        if name and name not in columns:
            columns[name] = index
    if {"prefix", "start", "end", "operator", "region"} <= columns.keys():
        return columns
    return None


def parse_registry_csv(source: str | os.PathLike | IO) -> Iterator[NumberRange]:
    """Yield :class:`NumberRange` rows from a registry CSV.

    Layout of the Минцифры/Россвязь «Реестр российской системы и плана
    нумерации» files (ABC-3xx.csv … DEF-9xx.csv)::

        АВС/ DEF;От;До;Емкость;Оператор;Регион;ИНН
        АВС/ DEF;От;До;Емкость;Оператор;Регион;Территория ГАР;ИНН

    Columns are found by header name, so both variants (and files without the
    ИНН column) load; a file without a header is read positionally.  A
    generator so the management command can stream 400k rows into the
    database without holding them twice.
    """
    text = _read_text(source)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line or "\t" not in first_line else "\t"
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    columns: dict[str, int] | None = None
    for line_no, row in enumerate(reader, start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = _header_columns(row)
            if columns is not None:
                continue
            if not row[0].strip().isdigit():
                raise ValueError(
                    f"Строка {line_no}: не найден заголовок реестра нумерации"
                )
            columns = dict(zip(_POSITIONAL, range(len(_POSITIONAL)), strict=True))
            if len(row) >= 8:
                columns["inn"] = 7
            elif len(row) == 7:
                columns["inn"] = 6
        try:
            prefix = int(row[columns["prefix"]])
            start = int(row[columns["start"]])
            end = int(row[columns["end"]])
            operator = " ".join(row[columns["operator"]].split())
            region = " ".join(row[columns["region"]].split())
        except (IndexError, ValueError):
            raise ValueError(f"Строка {line_no}: неверный формат: {row!r}") from None
        inn_col = columns.get("inn")
        inn = row[inn_col].strip() if inn_col is not None and inn_col < len(row) else ""
        yield NumberRange(prefix, start, end, operator, region, inn)


_plan: NumberingPlan | None = None
_plan_lock = threading.Lock()


def default_plan() -> NumberingPlan:
    """The plan :func:`lookup` uses: bundled CSV, loaded once on first use."""
    global _plan
    plan = _plan
    if plan is None:
        with _plan_lock:
            if _plan is None:
                _plan = NumberingPlan.from_csv(BUNDLED_PLAN_PATH)
            plan = _plan
    return plan


def set_plan(plan: NumberingPlan | None) -> None:
    """Install the plan :func:`lookup` uses (``None`` = back to the bundled one).

    The hook for the Django layer, which builds a plan from the full registry
    in the database and swaps it in at start-up or after a reload.
    """
    global _plan
    with _plan_lock:
        _plan = plan


def lookup(e164: str, plan: NumberingPlan | None = None) -> PhoneInfo:
    """Country, operator brand, region and time zone of a number.

    Russian numbers come from the numbering plan (the registry, not
    phonenumbers, which has no operator data for +7 because of number
    portability); other countries, and +7 numbers outside the plan (Kazakhstan,
    landlines missing from the bundled subset), use phonenumbers' carrier,
    geocoder and timezone data.  Non-E.164 input is normalised first and may
    raise :class:`InvalidPhone`.
    """
    if not (
        isinstance(e164, str)
        and len(e164) >= 9
        and e164[0] == "+"
        and e164[1:].isdigit()
        and e164.isascii()
    ):
        e164 = normalize_phone(e164)
    if len(e164) == 12 and e164[1] == "7":
        entry = (plan or default_plan()).find(e164[2:])
        if entry is not None:
            return PhoneInfo(e164, "RU", entry.brand, entry.region, entry.timezone)
        if e164[2] == "9":
            # A Russian mobile range missing from the plan: phonenumbers knows
            # nothing more than "Россия" here, so skip its slow path.
            return PhoneInfo(e164, "RU", "", "", DEFAULT_TIMEZONE)
    return _lookup_phonenumbers(e164)


@lru_cache(maxsize=8192)
def _lookup_phonenumbers(e164: str) -> PhoneInfo:
    # Imported lazily: the carrier/geocoder data modules take a while to load
    # and most processes only ever look up Russian numbers.
    from phonenumbers import carrier, geocoder
    from phonenumbers import timezone as pn_timezone

    number = phonenumbers.parse(e164)
    country = phonenumbers.region_code_for_number(number) or ""
    if country == "001":  # non-geographic (+800, +882 …)
        country = ""
    name = carrier.name_for_number(number, "ru")
    operator = operator_brand(name) if name else ""
    region = geocoder.description_for_number(number, "ru")
    zones = [
        zone
        for zone in pn_timezone.time_zones_for_number(number)
        if zone != pn_timezone.UNKNOWN_TIMEZONE
    ]
    if len(zones) == 1:
        zone = zones[0]
    elif country == "RU":
        zone = region_timezone(region)
    elif country == "KZ":
        zone = "Asia/Almaty"
    else:
        zone = zones[0] if zones else ""
    return PhoneInfo(e164, country, operator, region, zone)


# ---------------------------------------------------------------------------
# Micro-benchmark: python -m contacts.phones
# ---------------------------------------------------------------------------


def _benchmark_inputs(count: int, seed: int = 1) -> list[object]:
    """Mixed inputs shaped like real imports: mostly Russian mobiles."""
    import random

    rnd = random.Random(seed)
    codes = [c for c in range(900, 1000) if c != 930]
    foreign = ["+380 44 123 4567", "+1 202 555 0143", "+44 20 7946 0958"]
    junk = ["Иван Петров", "123", "8 916 123 45", "+7 000 123 45 67", ""]
    out: list[object] = []
    for _ in range(count):
        national = f"{rnd.choice(codes)}{rnd.randrange(10**7):07d}"
        a, b, c, d = national[:3], national[3:6], national[6:8], national[8:]
        roll = rnd.random()
        if roll < 0.05:
            out.append(rnd.choice(foreign))
        elif roll < 0.08:
            out.append(rnd.choice(junk))
        elif roll < 0.13:
            out.append(float("7" + national))
        else:
            out.append(
                rnd.choice(
                    (
                        f"8 ({a}) {b}-{c}-{d}",
                        f"+7 {a} {b}{c}{d}",
                        national,
                        f"7-{a}-{b}-{c}-{d}",
                        f"8-{a}-{b}-{c}-{d}",
                        f"+7({a}){b} {c} {d}",
                        f"{a}.{b}.{c}.{d}",
                        f"8{national}",
                    )
                )
            )
    return out


def _benchmark() -> None:  # pragma: no cover - manual tool
    import time

    inputs = _benchmark_inputs(200_000)
    t0 = time.perf_counter()
    ok = 0
    for value in inputs:
        try:
            normalize_phone(value)
            ok += 1
        except InvalidPhone:
            pass
    elapsed = time.perf_counter() - t0
    print(
        f"normalize_phone: {len(inputs) / elapsed:,.0f}/s "
        f"({len(inputs):,} mixed inputs, {ok:,} valid)"
    )

    plan = default_plan()
    numbers = []
    for value in inputs[:50_000]:
        try:
            numbers.append(normalize_phone(value))
        except InvalidPhone:
            pass
    numbers = (numbers * (200_000 // len(numbers) + 1))[:200_000]
    t0 = time.perf_counter()
    for number in numbers:
        lookup(number, plan)
    elapsed = time.perf_counter() - t0
    print(f"lookup:          {len(numbers) / elapsed:,.0f}/s ({len(plan)} ranges)")

    lines = "\n".join(
        f"{i}. Клиент {i}, звоните {v} или пишите"
        for i, v in enumerate(inputs[:100_000])
    )
    t0 = time.perf_counter()
    found, rejected = extract_phones(lines)
    elapsed = time.perf_counter() - t0
    print(
        f"extract_phones:  100,000 lines in {elapsed:.2f}s "
        f"({len(found):,} numbers, {len(rejected):,} rejected fragments)"
    )


if __name__ == "__main__":  # pragma: no cover
    _benchmark()
