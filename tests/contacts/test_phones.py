"""Tests for contacts.phones: normalisation, extraction and the numbering plan.

Plain pytest functions with no database, so the module also runs without
pytest-django (``-p no:django``): contact import speed and correctness are
checked without Django being configured.
"""

from __future__ import annotations

import io
import pickle
import random
from decimal import Decimal

import phonenumbers
import pytest

from contacts import phones
from contacts.phones import (
    BUNDLED_PLAN_PATH,
    InvalidPhone,
    NumberingPlan,
    NumberRange,
    PhoneInfo,
    default_plan,
    extract_phones,
    lookup,
    normalize_phone,
    operator_brand,
    parse_registry_csv,
    region_timezone,
    set_plan,
)

# --- keep these tests Django-free ---------------------------------------------


@pytest.fixture(autouse=True)
def _eager_celery():
    """Shadow the project-wide autouse fixture of the same name.

    The root conftest configures Celery through pytest-django's ``settings``
    fixture; this module is pure Python and must also pass with
    ``-p no:django``, where that fixture does not exist.
    """
    yield


@pytest.fixture(autouse=True)
def _on_commit_at_logical_commit():
    """Shadow the root conftest's transaction patching (no database here)."""
    yield


@pytest.fixture
def restore_plan():
    """Put the bundled plan back after a test swaps in its own."""
    yield
    set_plan(None)


MOSCOW_MTS = "+79161234567"

# --- normalize_phone ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "8 (916) 123-45-67",
        "+7 916 1234567",
        "9161234567",
        "7-916-123-45-67",
        "8-916-123-45-67",
        "+7(916)123 45 67",
        "+7 (916) 123-45-67",
        "89161234567",
        "79161234567",
        "+79161234567",
        "916.123.45.67",
        "8.916.123.45.67",
        "  8 916 123 45 67  ",
        "8\u00a0916\u00a0123\u00a045\u00a067",
        "(916) 123-45-67",
        "8 (916) 123-45-67.",
        "+7 916 123 45 67",
        "8 10 7 916 123 45 67",
        "007 916 123 45 67",
    ],
)
def test_russian_notations(raw):
    assert normalize_phone(raw) == MOSCOW_MTS


@pytest.mark.parametrize(
    "raw",
    [
        79161234567,
        79161234567.0,
        89161234567,
        9161234567,
        "79161234567.0",
        "89161234567.00",
        "7.9161234567E+10",
        "7,9161234567E+10",
        "'89161234567",
        Decimal("79161234567"),
        Decimal("79161234567.0"),
    ],
)
def test_spreadsheet_values(raw):
    """Excel/pandas hand phone columns over as numbers or float-ish text."""
    assert normalize_phone(raw) == MOSCOW_MTS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+380 44 123 4567", "+380441234567"),
        ("+1 202 555 0143", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
        ("00 44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("00380441234567", "+380441234567"),
        ("810 380 44 123 4567", "+380441234567"),
        ("8-10-1-202-555-0143", "+12025550143"),
        ("+7 701 123 45 67", "+77011234567"),  # Kazakhstan shares +7
        ("+7 (495) 123-45-67", "+74951234567"),  # Moscow landline
        ("8 800 555-35-35", "+78005553535"),
        ("8 (343) 123-45-67", "+73431234567"),  # Yekaterinburg landline
    ],
)
def test_foreign_and_landline_numbers(raw, expected):
    assert normalize_phone(raw) == expected


def test_other_default_region():
    assert normalize_phone("044 123 4567", "UA") == "+380441234567"
    assert normalize_phone("(202) 555-0143", "US") == "+12025550143"
    assert normalize_phone("+7 916 123-45-67", "UA") == MOSCOW_MTS
    assert normalize_phone("8 916 123-45-67", "ru") == MOSCOW_MTS


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "Пустое значение"),
        ("   ", "Пустое значение"),
        (None, "Пустое значение"),
        (float("nan"), "Пустое значение"),
        ("-", "Пустое значение"),
        ("abc", "Это не номер телефона"),
        ("Иван Петров", "Это не номер телефона"),
        ("8916abc4567", "Это не номер телефона"),
        ("+7 916 123-45-67 доб. 12", "Это не номер телефона"),
        (True, "Это не номер телефона"),
        (9161.5, "Это не номер телефона"),
        ([79161234567], "Это не номер телефона"),
        ("12", "Слишком мало цифр"),
        ("123-45-67", "Слишком мало цифр"),
        ("916 123 45 6", "Слишком мало цифр"),
        ("8 916 123 45 6", "Слишком мало цифр"),
        ("+7 916 123 45 6", "Слишком мало цифр"),
        ("8 916 123 45 678", "Слишком много цифр"),
        ("+7 916 123 45 678", "Слишком много цифр"),
        ("89161234567891", "Слишком много цифр"),
        ("916 123 45 67 89", "Слишком много цифр"),
        ("+7 000 123 45 67", "Номер не существует"),
        ("8 000 123 45 67", "Номер не существует"),
        ("+8 916 123 45 67", "Неверный код страны"),
        ("+999 123 456 789", "Неверный код страны"),
    ],
)
def test_invalid_values(raw, reason):
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(raw)
    assert caught.value.reason == reason
    assert str(caught.value) == reason


def test_invalid_phone_exception_contract():
    with pytest.raises(ValueError) as caught:  # callers may catch it generically
        normalize_phone("8 916 123")
    exc = caught.value
    assert isinstance(exc, InvalidPhone)
    assert exc.code == "too_short"
    assert exc.value == "8 916 123"
    clone = pickle.loads(pickle.dumps(exc))  # Celery ships exceptions around
    assert (clone.reason, clone.code, clone.value) == (exc.reason, exc.code, exc.value)


def test_fast_path_only_takes_russian_mobiles():
    assert phones._fast_ru("8 (916) 123-45-67", "RU") == MOSCOW_MTS
    assert phones._fast_ru("+7 916 123 45 67", "RU") == MOSCOW_MTS
    # Not for the fast path: landline, Kazakhstan, foreign, prefixes, region.
    for text in (
        "+7 495 123 45 67",
        "+7 701 123 45 67",
        "+380 44 123 4567",
        "00 44 20 7946 0958",
        "+8 916 123 45 67",
        "8 916 123 45 6",
    ):
        assert phones._fast_ru(text, "RU") is None, text
    assert phones._fast_ru("89161234567", "UA") is None


def _mixed_inputs(count: int, seed: int) -> list[str]:
    """Valid Russian mobiles in every notation, plus foreign numbers and junk."""
    rnd = random.Random(seed)
    notations = (
        "8 ({a}) {b}-{c}-{d}",
        "+7 {a} {b}{c}{d}",
        "{a}{b}{c}{d}",
        "7-{a}-{b}-{c}-{d}",
        "8-{a}-{b}-{c}-{d}",
        "+7({a}){b} {c} {d}",
        "{a}.{b}.{c}.{d}",
        "8{a}{b}{c}{d}",
        "+7{a}{b}{c}{d}",
        "7 {a} {b} {c} {d}",
        "8\u00a0{a}\u00a0{b}\u00a0{c}{d}",
        "({a}) {b}-{c}-{d}",
        " +7 ({a}) {b}-{c}-{d} ",
    )
    other = (
        "+380 44 123 4567",
        "+1 202 555 0143",
        "+44 20 7946 0958",
        "+7 495 123 45 67",
        "+7 701 123 45 67",
        "8 800 555 35 35",
        "+7 000 123 45 67",
        "8 916 123 45",
        "+7 916 123 45 678",
        "Иван",
        "12",
    )
    out = []
    for _ in range(count):
        if rnd.random() < 0.1:
            out.append(rnd.choice(other))
            continue
        # Every 9xx code, including 930 whose 9300… block is partly unassigned.
        national = f"9{rnd.randrange(10**9):09d}"
        if rnd.random() < 0.05:
            national = f"9300{rnd.randrange(10**6):06d}"
        a, b, c, d = national[:3], national[3:6], national[6:8], national[8:]
        out.append(rnd.choice(notations).format(a=a, b=b, c=c, d=d))
    return out


def _outcome(func, *args):
    try:
        return func(*args)
    except InvalidPhone as exc:
        return ("error", exc.reason)


def test_fast_path_matches_phonenumbers():
    """The fast path must never disagree with the phonenumbers path."""
    inputs = _mixed_inputs(2000, seed=20240501)
    fast_hits = 0
    valid_mobiles = 0
    for raw in inputs:
        result = _outcome(normalize_phone, raw)
        slow = _outcome(phones._normalize_with_phonenumbers, raw.strip(), "RU")
        assert result == slow, raw
        if phones._fast_ru(raw.strip(), "RU") is not None:
            fast_hits += 1
        number = (
            phonenumbers.parse(raw, "RU") if any(ch.isdigit() for ch in raw) else None
        )
        if number is not None and phonenumbers.is_valid_number(number):
            expected = phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
            assert result == expected, raw
            if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
                valid_mobiles += 1
    assert valid_mobiles > 1500
    assert fast_hits > 1500  # the common notations really take the fast path


def test_extract_from_paragraph():
    text = (
        "Здравствуйте! Звоните 8 916 123-45-67 или +7(903)111-22-33, "
        "а также 8-905-000-11-22; в Киеве +380 44 123 4567.\n"
        "Повторно: +7 916 123 45 67. Дата встречи 01.02.2024, сумма 1 500 000 руб., "
        "ИНН 7707049388. Ошибочный номер 8 916 123 45 6, "
        "добавочный 123-45-67 и заказ №12."
    )
    found, rejected = extract_phones(text)
    assert found == [
        "+79161234567",
        "+79031112233",
        "+79050001122",
        "+380441234567",
    ]
    assert rejected == ["7707049388", "8 916 123 45 6", "123-45-67"]


def test_extract_lines_and_separators():
    text = "89161234567\n+7 903 111 22 33\r\n9051234567;9261234567,79991234567\n\n"
    found, rejected = extract_phones(text)
    assert found == [
        "+79161234567",
        "+79031112233",
        "+79051234567",
        "+79261234567",
        "+79991234567",
    ]
    assert rejected == []


def test_extract_splits_numbers_glued_by_spaces():
    found, rejected = extract_phones(
        "89161234567 89031112233 8-905-000-11-22 8-926-000-11-22 +7 916 123 45 67 8 999"
        " 000 11 22"
    )
    assert found == [
        "+79161234567",
        "+79031112233",
        "+79050001122",
        "+79260001122",
        "+79990001122",
    ]
    assert rejected == []
    found, rejected = extract_phones("89161234567 8903111223")
    assert found == ["+79161234567"]
    assert rejected == ["8903111223"]


def test_extract_ignores_digit_noise():
    found, rejected = extract_phones(
        "Заказ 12345 от 2024-01-15, время 10:30-18:00, 1 000 000 ₽, код 4512"
    )
    assert (found, rejected) == ([], [])


def test_extract_glued_to_words_and_excel_floats():
    found, _ = extract_phones(
        "Иванов89161234567 тел.:+79031112233 (моб.) 79261234567.0"
    )
    assert found == ["+79161234567", "+79031112233", "+79261234567"]


def test_extract_finds_the_numbers_of_100k_lines():
    inputs = _mixed_inputs(100_000, seed=3)
    text = "\n".join(
        f"{i}. Клиент, звоните {raw} до 18:00" for i, raw in enumerate(inputs)
    )
    # Speed is `manage.py bench contacts_import`'s business, not a test's.
    found, rejected = extract_phones(text)
    assert len(found) > 80_000
    assert "+380441234567" in found


# --- operator brands and time zones ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "brand"),
    [
        ('ПАО "Мобильные ТелеСистемы"', "МТС"),
        ("ПАО МТС", "МТС"),
        ('ПАО "МегаФон"', "МегаФон"),
        ('ПАО "Вымпел-Коммуникации"', "Билайн"),
        ('ООО "Т2 Мобайл"', "Tele2"),
        ('ООО "Скартел"', "Yota"),
        ('ООО "Екатеринбург-2000"', "Мотив"),
        ('ПАО "Ростелеком"', "Ростелеком"),
        ('АО "Компания ТрансТелеКом"', "ТТК"),
        ('ООО "Сбербанк-Телеком"', "СберМобайл"),
        ('ООО "К-Телеком"', "Win mobile"),
        ('ООО "КТК Телеком"', "Волна мобайл"),
        ('ПАО "Таттелеком"', "Летай"),
        ("ООО  «Новый  Оператор»", "Новый Оператор"),
        ("", ""),
    ],
)
def test_operator_brand(name, brand):
    assert operator_brand(name) == brand


# All 85 subjects (as listed in the 2014-2022 Constitution, art. 65), in the
# spelling the registry uses.
SUBJECT_ZONES = {
    "Республика Адыгея": "Europe/Moscow",
    "Республика Алтай": "Asia/Barnaul",
    "Республика Башкортостан": "Asia/Yekaterinburg",
    "Республика Бурятия": "Asia/Irkutsk",
    "Республика Дагестан": "Europe/Moscow",
    "Республика Ингушетия": "Europe/Moscow",
    "Кабардино-Балкарская Республика": "Europe/Moscow",
    "Республика Калмыкия": "Europe/Moscow",
    "Карачаево-Черкесская Республика": "Europe/Moscow",
    "Республика Карелия": "Europe/Moscow",
    "Республика Коми": "Europe/Moscow",
    "Республика Крым": "Europe/Simferopol",
    "Республика Марий Эл": "Europe/Moscow",
    "Республика Мордовия": "Europe/Moscow",
    "Республика Саха /Якутия/": "Asia/Yakutsk",
    "Республика Северная Осетия - Алания": "Europe/Moscow",
    "Республика Татарстан": "Europe/Moscow",
    "Республика Тыва": "Asia/Krasnoyarsk",
    "Удмуртская Республика": "Europe/Samara",
    "Республика Хакасия": "Asia/Krasnoyarsk",
    "Чеченская Республика": "Europe/Moscow",
    "Чувашская Республика - Чувашия": "Europe/Moscow",
    "Алтайский край": "Asia/Barnaul",
    "Забайкальский край": "Asia/Chita",
    "Камчатский край": "Asia/Kamchatka",
    "Краснодарский край": "Europe/Moscow",
    "Красноярский край": "Asia/Krasnoyarsk",
    "Пермский край": "Asia/Yekaterinburg",
    "Приморский край": "Asia/Vladivostok",
    "Ставропольский край": "Europe/Moscow",
    "Хабаровский край": "Asia/Vladivostok",
    "Амурская обл.": "Asia/Yakutsk",
    "Архангельская обл.": "Europe/Moscow",
    "Астраханская обл.": "Europe/Astrakhan",
    "Белгородская обл.": "Europe/Moscow",
    "Брянская обл.": "Europe/Moscow",
    "Владимирская обл.": "Europe/Moscow",
    "Волгоградская обл.": "Europe/Volgograd",
    "Вологодская обл.": "Europe/Moscow",
    "Воронежская обл.": "Europe/Moscow",
    "Ивановская обл.": "Europe/Moscow",
    "Иркутская обл.": "Asia/Irkutsk",
    "Калининградская обл.": "Europe/Kaliningrad",
    "Калужская обл.": "Europe/Moscow",
    "Кемеровская обл. - Кузбасс": "Asia/Novokuznetsk",
    "Кировская обл.": "Europe/Kirov",
    "Костромская обл.": "Europe/Moscow",
    "Курганская обл.": "Asia/Yekaterinburg",
    "Курская обл.": "Europe/Moscow",
    "Ленинградская обл.": "Europe/Moscow",
    "Липецкая обл.": "Europe/Moscow",
    "Магаданская обл.": "Asia/Magadan",
    "Московская обл.": "Europe/Moscow",
    "Мурманская обл.": "Europe/Moscow",
    "Нижегородская обл.": "Europe/Moscow",
    "Новгородская обл.": "Europe/Moscow",
    "Новосибирская обл.": "Asia/Novosibirsk",
    "Омская обл.": "Asia/Omsk",
    "Оренбургская обл.": "Asia/Yekaterinburg",
    "Орловская обл.": "Europe/Moscow",
    "Пензенская обл.": "Europe/Moscow",
    "Псковская обл.": "Europe/Moscow",
    "Ростовская обл.": "Europe/Moscow",
    "Рязанская обл.": "Europe/Moscow",
    "Самарская обл.": "Europe/Samara",
    "Саратовская обл.": "Europe/Saratov",
    "Сахалинская обл.": "Asia/Sakhalin",
    "Свердловская обл.": "Asia/Yekaterinburg",
    "Смоленская обл.": "Europe/Moscow",
    "Тамбовская обл.": "Europe/Moscow",
    "Тверская обл.": "Europe/Moscow",
    "Томская обл.": "Asia/Tomsk",
    "Тульская обл.": "Europe/Moscow",
    "Тюменская обл.": "Asia/Yekaterinburg",
    "Ульяновская обл.": "Europe/Ulyanovsk",
    "Челябинская обл.": "Asia/Yekaterinburg",
    "Ярославская обл.": "Europe/Moscow",
    "г. Москва": "Europe/Moscow",
    "г. Санкт-Петербург": "Europe/Moscow",
    "г. Севастополь": "Europe/Simferopol",
    "Еврейская автономная обл.": "Asia/Vladivostok",
    "Ненецкий автономный округ": "Europe/Moscow",
    "Ханты-Мансийский автономный округ - Югра": "Asia/Yekaterinburg",
    "Чукотский автономный округ": "Asia/Anadyr",
    "Ямало-Ненецкий автономный округ": "Asia/Yekaterinburg",
}


def test_all_85_subjects_have_a_zone():
    assert len(SUBJECT_ZONES) == 85
    wrong = {
        name: region_timezone(name)
        for name, zone in SUBJECT_ZONES.items()
        if region_timezone(name) != zone
    }
    assert wrong == {}


@pytest.mark.parametrize(
    ("region", "zone"),
    [
        ("Москва и Московская область", "Europe/Moscow"),
        ("г. Москва и Московская обл.", "Europe/Moscow"),
        ("г. Санкт-Петербург и Ленинградская обл.", "Europe/Moscow"),
        ("Республика Саха (Якутия)", "Asia/Yakutsk"),
        ("г. Новосибирск", "Asia/Novosibirsk"),
        ("г. Екатеринбург", "Asia/Yekaterinburg"),
        ("г. Владивосток", "Asia/Vladivostok"),
        ("Российская Федерация", "Europe/Moscow"),
        ("", "Europe/Moscow"),
    ],
)
def test_region_timezone_variants(region, zone):
    assert region_timezone(region) == zone


# --- registry CSV -----------------------------------------------------------------

REGISTRY_ROWS = [
    '916;0000000;9999999;10000000;ПАО "Мобильные ТелеСистемы";'
    "г. Москва и Московская обл.;7740000076",
    '913;9000000;9499999;500000;ПАО "Мобильные ТелеСистемы";'
    "Новосибирская обл.;7740000076",
    '913;9500000;9999999;500000;ПАО "Мобильные ТелеСистемы";'
    "Новосибирская обл.;7740000076",
    '924;1000000;1999999;1000000;ПАО "МегаФон";Приморский край;7812014560',
]
HEADER = "АВС/ DEF;От;До;Емкость;Оператор;Регион;ИНН"


def _registry_bytes(encoding: str, bom: bool = False) -> bytes:
    data = "\r\n".join([HEADER, *REGISTRY_ROWS]).encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def _expected_rows():
    return [
        NumberRange(
            916,
            0,
            9_999_999,
            'ПАО "Мобильные ТелеСистемы"',
            "г. Москва и Московская обл.",
            "7740000076",
        ),
        NumberRange(
            913,
            9_000_000,
            9_499_999,
            'ПАО "Мобильные ТелеСистемы"',
            "Новосибирская обл.",
            "7740000076",
        ),
        NumberRange(
            913,
            9_500_000,
            9_999_999,
            'ПАО "Мобильные ТелеСистемы"',
            "Новосибирская обл.",
            "7740000076",
        ),
        NumberRange(
            924, 1_000_000, 1_999_999, 'ПАО "МегаФон"', "Приморский край", "7812014560"
        ),
    ]


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp1251", False)]
)
def test_registry_csv_encodings(encoding, bom):
    rows = list(parse_registry_csv(io.BytesIO(_registry_bytes(encoding, bom))))
    assert rows == _expected_rows()


def test_registry_csv_from_path_and_text(tmp_path):
    path = tmp_path / "DEF-9xx.csv"
    path.write_bytes(_registry_bytes("cp1251"))
    assert list(parse_registry_csv(path)) == _expected_rows()
    assert list(parse_registry_csv(str(path))) == _expected_rows()
    text = "\ufeff" + "\n".join([HEADER, *REGISTRY_ROWS])
    assert list(parse_registry_csv(io.StringIO(text))) == _expected_rows()
    plan = NumberingPlan.from_csv(path)
    # The two adjacent Novosibirsk ranges merge into one.
    assert len(plan) == 3
    assert plan.prefixes() == [913, 916, 924]


def test_registry_csv_gar_variant_and_quoting():
    text = "\n".join(
        [
            "АВС/ DEF;От;До;Емкость;Оператор;Регион;Территория ГАР;ИНН",
            '999;0000000;0999999;1000000;"ООО ""Скартел""";г. Москва и Московская'
            " обл.;г. Москва|Московская обл.;7701725181",
            '902;8700000;8799999;100000;ООО "Екатеринбург-2000";Свердловская обл.;'
            "Свердловская обл.;6661079603",
            "",
        ]
    )
    rows = list(parse_registry_csv(io.BytesIO(text.encode("utf-8"))))
    assert rows == [
        NumberRange(
            999,
            0,
            999_999,
            'ООО "Скартел"',
            "г. Москва и Московская обл.",
            "7701725181",
        ),
        NumberRange(
            902,
            8_700_000,
            8_799_999,
            'ООО "Екатеринбург-2000"',
            "Свердловская обл.",
            "6661079603",
        ),
    ]


def test_registry_csv_header_variants():
    latin = (
        "ABC/DEF;От;До;Ёмкость;Оператор;Регион\n"
        "924;0;999;1000;ПАО МегаФон;Омская обл.\n"
    )
    assert list(parse_registry_csv(io.StringIO(latin))) == [
        NumberRange(924, 0, 999, "ПАО МегаФон", "Омская обл.", "")
    ]
    headerless = '916;0000000;9999999;10000000;ПАО "МТС";г. Москва;7740000076\n'
    assert list(parse_registry_csv(io.StringIO(headerless)))[0].inn == "7740000076"
    with pytest.raises(ValueError, match="заголовок"):
        list(parse_registry_csv(io.StringIO("foo;bar\n1;2\n")))
    with pytest.raises(ValueError, match="Строка 2"):
        list(parse_registry_csv(io.StringIO(HEADER + "\n916;abc;9;1;X;Y;1\n")))


# --- NumberingPlan and lookup ---------------------------------------------------


def test_plan_bisect_boundaries():
    plan = NumberingPlan(
        [
            NumberRange(916, 0, 4_999_999, 'ПАО "Мобильные ТелеСистемы"', "г. Москва"),
            NumberRange(916, 6_000_000, 9_999_999, 'ПАО "МегаФон"', "Омская обл."),
            (913, 9_000_000, 9_999_999, 'ООО "Т2 Мобайл"', "Новосибирская обл."),
        ]
    )
    assert plan.find("9160000000").brand == "МТС"
    assert plan.find("9164999999").brand == "МТС"
    assert plan.find("9165000000") is None  # gap between ranges
    assert plan.find("9166000000").timezone == "Asia/Omsk"
    assert plan.find(9169999999).brand == "МегаФон"
    assert plan.find("9138999999") is None
    assert plan.find("9139000000").region == "Новосибирская обл."
    assert plan.find("9000000000") is None  # prefix not in plan
    from_mappings = NumberingPlan(
        [
            {
                "prefix": 916,
                "start": 0,
                "end": 9_999_999,
                "operator": "ПАО МТС",
                "region": "г. Москва",
            }
        ]
    )
    assert from_mappings.find("9161234567").brand == "МТС"
    with pytest.raises(ValueError):
        NumberingPlan([NumberRange(916, 5, 4, "X", "Y")])


def test_plan_overlaps_keep_first_range():
    plan = NumberingPlan(
        [
            NumberRange(900, 0, 999, "A", "г. Москва"),
            NumberRange(900, 500, 1999, "B", "г. Москва"),
            NumberRange(900, 100, 200, "C", "г. Москва"),
        ]
    )
    assert plan.find("9000000150").operator == "A"
    assert plan.find("9000001500").operator == "B"


def test_lookup_moscow_mts():
    info = lookup("+79161234567")
    assert info == PhoneInfo(
        e164="+79161234567",
        country="RU",
        operator="МТС",
        region="г. Москва и Московская обл.",
        timezone="Europe/Moscow",
    )
    assert "Москва" in info.region
    with pytest.raises(AttributeError):
        info.operator = "X"  # frozen


@pytest.mark.parametrize(
    ("number", "operator", "region_part", "zone"),
    [
        ("+79139123456", "МТС", "Новосибирск", "Asia/Novosibirsk"),
        ("+79231234567", "МегаФон", "Новосибирск", "Asia/Novosibirsk"),
        ("+79031112233", "Билайн", "Москва", "Europe/Moscow"),
        ("+79771234567", "Tele2", "Москва", "Europe/Moscow"),
        ("+79111234567", "МТС", "Санкт-Петербург", "Europe/Moscow"),
        ("+79121234567", "МТС", "Свердловская", "Asia/Yekaterinburg"),
        ("+79141234567", "МТС", "Приморский", "Asia/Vladivostok"),
        ("+79181234567", "МТС", "Краснодарский", "Europe/Moscow"),
        ("+79174123456", "МТС", "Татарстан", "Europe/Moscow"),
        ("+79149123456", "МТС", "Камчатский", "Asia/Kamchatka"),
        ("+79991234567", "Yota", "Москва", "Europe/Moscow"),
        ("+79021234567", "Мотив", "Свердловская", "Asia/Yekaterinburg"),
        ("+79113123456", "МТС", "Калининград", "Europe/Kaliningrad"),
    ],
)
def test_lookup_bundled_plan(number, operator, region_part, zone):
    info = lookup(number)
    assert (info.country, info.operator, info.timezone) == ("RU", operator, zone)
    assert region_part in info.region


def test_lookup_foreign_and_fallbacks():
    ukraine = lookup("+380441234567")
    assert ukraine.country == "UA"
    assert ukraine.timezone == "Europe/Kyiv" or ukraine.timezone == "Europe/Kiev"
    assert lookup("+12025550143").country == "US"
    assert lookup("+442079460958").timezone == "Europe/London"
    kazakh = lookup("+77011234567")
    assert (kazakh.country, kazakh.timezone) == ("KZ", "Asia/Almaty")
    landline = lookup("+74951234567")  # not in the bundled DEF subset
    assert (landline.country, landline.timezone) == ("RU", "Europe/Moscow")
    unknown = lookup("+79401234567")  # 940 is not in the bundled subset
    assert unknown == PhoneInfo("+79401234567", "RU", "", "", "Europe/Moscow")


def test_lookup_normalises_input():
    assert lookup("8 (916) 123-45-67").e164 == MOSCOW_MTS
    assert lookup(79161234567).operator == "МТС"
    with pytest.raises(InvalidPhone):
        lookup("не номер")


def test_set_plan_swaps_and_resets(restore_plan):
    custom = NumberingPlan([NumberRange(916, 0, 9_999_999, 'ПАО "МегаФон"', "Омская")])
    set_plan(custom)
    assert default_plan() is custom
    assert lookup(MOSCOW_MTS).operator == "МегаФон"
    set_plan(None)
    assert default_plan() is not custom
    assert lookup(MOSCOW_MTS).operator == "МТС"
    # An explicit plan argument bypasses the module-level one.
    assert lookup(MOSCOW_MTS, plan=custom).timezone == "Asia/Omsk"


def test_bundled_plan_is_realistic():
    rows = list(parse_registry_csv(BUNDLED_PLAN_PATH))
    assert 300 <= len(rows) <= 5000
    assert BUNDLED_PLAN_PATH.read_bytes().startswith("АВС/ DEF;".encode())
    plan = default_plan()
    brands = {operator_brand(row.operator) for row in rows}
    assert {"МТС", "МегаФон", "Билайн", "Tele2", "Yota", "Мотив"} <= brands
    prefixes = set(plan.prefixes())
    assert {903, 905, 909, 915, 916, 917, 925, 926, 977, 985, 999} <= prefixes
    assert set(range(962, 969)) <= prefixes
    for row in rows:
        assert 900 <= row.prefix <= 999
        assert row.end - row.start >= 0
    spb = [lookup(f"+7{code}0123456") for code in (911, 921, 931, 981, 952, 953)]
    assert all("Санкт-Петербург" in info.region for info in spb)


def test_normalize_many_gives_what_normalize_phone_gives_one_by_one():
    values = phones._benchmark_inputs(5000, seed=7) + [
        " +7 916 123-45-67 ",
        79161234567.0,
        79161234567,
        -1,
        0.5,
        None,
        True,
        "+8 916 123 45 67",
        "79161234567.0",
        "",
        "+380 44 123 4567",
    ]
    for value, got in zip(values, phones.normalize_many(values), strict=True):
        try:
            expected = phones.normalize_phone(value)
        except phones.InvalidPhone as exc:
            assert isinstance(got, phones.InvalidPhone) and got.reason == exc.reason
        else:
            assert got == expected


def test_a_short_number_alone_on_its_line_is_reported_as_skipped():
    """Pasting «12345» on its own line said nothing about it."""
    found, rejected = extract_phones("89161234567\n12345\n+7 903 111-22-33\n 4512 \n")
    assert found == ["+79161234567", "+79031112233"]
    assert rejected == ["12345", "4512"]
    found, rejected = extract_phones("89161234567, 12345; 8 903 111 22 33")
    assert rejected == ["12345"]
    # Digits inside prose are still noise, not numbers someone typed.
    assert extract_phones("Заказ 12345 от 2024-01-15, код 4512") == ([], [])
