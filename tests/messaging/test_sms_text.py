"""Tests for messaging.sms_text: SMS part counting and transliteration.

Pure functions only - no database, no Django settings - so these run both
with ``-p no:django`` and under pytest-django.
"""

import dataclasses
import random

import pytest

from messaging.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsCount,
    count_sms,
    gsm7_safe,
    transliterate,
)

# Property checks use seeded random texts rather than Hypothesis: they are
# deterministic and leave no .hypothesis/ cache in the working tree.
_SEEDS = range(8)
_ROUNDS = 400


def _random_texts(seed, alphabet, min_size, max_size):
    rng = random.Random(seed)
    for _ in range(_ROUNDS):
        yield "".join(rng.choices(alphabet, k=rng.randint(min_size, max_size)))


def _c(encoding, parts, chars, chars_left, per_part):
    return SmsCount(encoding, parts, chars, chars_left, per_part)


# --------------------------------------------------------------------------
# Alphabet tables
# --------------------------------------------------------------------------


def test_gsm7_tables_have_the_standard_sizes():
    # 128 code points minus 0x1B (ESC), which is not a character itself.
    assert len(GSM7_BASIC) == len(set(GSM7_BASIC)) == 127
    assert len(GSM7_EXTENSION) == len(set(GSM7_EXTENSION)) == 10
    assert not set(GSM7_BASIC) & set(GSM7_EXTENSION)
    assert "\x1b" not in GSM7_BASIC


@pytest.mark.parametrize(
    "char",
    list("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà") + ["\n", "\r", " "],
)
def test_non_ascii_basic_chars_are_one_septet(char):
    assert count_sms(char) == _c("gsm7", 1, 1, 159, 160)


@pytest.mark.parametrize("char", list("^{}\\[~]|€\f"))
def test_extension_chars_are_two_septets(char):
    assert count_sms(char) == _c("gsm7", 1, 2, 158, 160)


@pytest.mark.parametrize(
    "char",
    # Look-alikes that are NOT in GSM 03.38: lowercase ç, Greek alpha,
    # backtick, tab, ASCII DEL, Cyrillic о, curly quote, combining diaeresis.
    ["ç", "α", "`", "\t", "\x7f", "о", "’", "\u0308"],
)
def test_look_alikes_force_ucs2(char):
    assert count_sms("abc" + char).encoding == "ucs2"
    assert not gsm7_safe(char)


# --------------------------------------------------------------------------
# count_sms: GSM-7
# --------------------------------------------------------------------------


def test_empty_text_is_one_empty_gsm7_part():
    assert count_sms("") == _c("gsm7", 1, 0, 160, 160)


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (1, _c("gsm7", 1, 1, 159, 160)),
        (160, _c("gsm7", 1, 160, 0, 160)),  # a full single SMS
        (161, _c("gsm7", 2, 161, 145, 153)),  # UDH: 153 per part from now on
        (306, _c("gsm7", 2, 306, 0, 153)),  # 2 * 153
        (307, _c("gsm7", 3, 307, 152, 153)),
        (459, _c("gsm7", 3, 459, 0, 153)),
        (460, _c("gsm7", 4, 460, 152, 153)),
    ],
)
def test_gsm7_part_boundaries(length, expected):
    assert count_sms("a" * length) == expected


def test_euro_counts_two_septets():
    assert count_sms("€") == _c("gsm7", 1, 2, 158, 160)
    assert count_sms("Price: 5€") == _c("gsm7", 1, 10, 150, 160)


def test_80_euros_fill_exactly_one_sms():
    assert count_sms("€" * 80) == _c("gsm7", 1, 160, 0, 160)


def test_81_euros_need_two_parts_and_waste_a_septet():
    # 76 ESC pairs = 152 septets fill part 1; the 77th pair would straddle
    # the 153 boundary so it moves to part 2 (5 pairs = 10 septets there).
    # chars_left is the real room: 153 - 10 = 143, not 2 * 153 - 162 = 144.
    assert count_sms("€" * 81) == _c("gsm7", 2, 162, 143, 153)


def test_extension_char_straddling_153_pushes_a_third_part():
    # 152 + 2 + 152 = 306 septets would fit 2 * 153 if the ESC pair could be
    # split, but it may not: part 1 holds 152, part 2 holds "€" + 151 "a",
    # the last "a" opens part 3.
    text = "a" * 152 + "€" + "a" * 152
    assert count_sms(text) == _c("gsm7", 3, 306, 152, 153)


def test_extension_char_ending_exactly_on_153_does_not_straddle():
    # Same 306 septets, but "€" occupies septets 152-153 of part 1.
    text = "a" * 151 + "€" + "a" * 153
    assert count_sms(text) == _c("gsm7", 2, 306, 0, 153)


def test_straddle_at_the_single_to_multipart_transition():
    # 152 + 2 + 7 = 161 septets -> multipart; "€" is pushed to part 2.
    text = "a" * 152 + "€" + "a" * 7
    assert count_sms(text) == _c("gsm7", 2, 161, 153 - 9, 153)


def test_extension_chars_count_two_in_the_single_part_limit():
    assert count_sms("a" * 158 + "{") == _c("gsm7", 1, 160, 0, 160)
    assert count_sms("a" * 159 + "{").parts == 2


def test_newlines_and_form_feed():
    assert count_sms("a\r\nb").chars == 4
    assert count_sms("a\fb").chars == 4


# --------------------------------------------------------------------------
# count_sms: UCS-2
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (1, _c("ucs2", 1, 1, 69, 70)),
        (70, _c("ucs2", 1, 70, 0, 70)),
        (71, _c("ucs2", 2, 71, 63, 67)),  # UDH: 67 per part from now on
        (134, _c("ucs2", 2, 134, 0, 67)),
        (135, _c("ucs2", 3, 135, 66, 67)),
        (201, _c("ucs2", 3, 201, 0, 67)),
        (202, _c("ucs2", 4, 202, 66, 67)),
    ],
)
def test_ucs2_part_boundaries(length, expected):
    assert count_sms("я" * length) == expected


def test_mixed_latin_and_cyrillic_is_ucs2():
    assert count_sms("Привет") == _c("ucs2", 1, 6, 64, 70)
    assert count_sms("Hello, Привет!") == _c("ucs2", 1, 14, 56, 70)


def test_extension_chars_count_one_unit_in_ucs2():
    # In UCS-2 there is no ESC: "€" is a single BMP code unit.
    assert count_sms("€я") == _c("ucs2", 1, 2, 68, 70)


def test_emoji_counts_two_utf16_units():
    assert count_sms("👋") == _c("ucs2", 1, 2, 68, 70)
    assert count_sms("Hi 👋") == _c("ucs2", 1, 5, 65, 70)
    assert count_sms("👋" * 35) == _c("ucs2", 1, 70, 0, 70)
    assert count_sms("👋" * 36).parts == 2


def test_surrogate_pair_straddling_67_pushes_a_third_part():
    # 66 + 2 + 66 = 134 units = 2 * 67, but the pair may not be split:
    # part 1 holds 66, part 2 "👋" + 65 "я", the last "я" opens part 3.
    text = "я" * 66 + "👋" + "я" * 66
    assert count_sms(text) == _c("ucs2", 3, 134, 66, 67)


def test_surrogate_pair_ending_exactly_on_67_does_not_straddle():
    text = "я" * 65 + "👋" + "я" * 67
    assert count_sms(text) == _c("ucs2", 2, 134, 0, 67)


def test_33_emoji_per_ucs2_part():
    # 67 is odd, so each part carries 33 emoji (66 units) and wastes one.
    assert count_sms("👋" * 66) == _c("ucs2", 2, 132, 1, 67)
    assert count_sms("👋" * 67) == _c("ucs2", 3, 134, 65, 67)


def test_lone_surrogate_does_not_crash():
    assert count_sms("a\ud800b") == _c("ucs2", 1, 3, 67, 70)


def test_result_is_frozen():
    result = count_sms("hello")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.parts = 5  # type: ignore[misc]


# --------------------------------------------------------------------------
# count_sms against a naive reference implementation
# --------------------------------------------------------------------------


def _reference_count(text):
    """Obviously-correct per-character implementation of the same rules."""
    basic, ext = set(GSM7_BASIC), set(GSM7_EXTENSION)
    if all(ch in basic or ch in ext for ch in text):
        encoding, single, multi = "gsm7", 160, 153
        costs = [2 if ch in ext else 1 for ch in text]
    else:
        encoding, single, multi = "ucs2", 70, 67
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    total = sum(costs)
    if total <= single:
        return _c(encoding, 1, total, single - total, single)
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return _c(encoding, parts, total, multi - used, multi)


_ALPHABET = "aZ09 .,\n" + "€{}[]^~|\\\f" + "ÄΔ£@" + "яЖ" + "👋😀" + "`\t"
# Mostly-GSM texts with the odd intruder, so both encodings get exercised.
_MOSTLY_GSM = "a" * 40 + "€{" + "я👋"


@pytest.mark.parametrize("seed", _SEEDS)
def test_count_matches_reference(seed):
    for text in _random_texts(seed, _ALPHABET, 0, 400):
        assert count_sms(text) == _reference_count(text), text


@pytest.mark.parametrize("seed", _SEEDS)
def test_mostly_gsm_texts_match_reference(seed):
    for text in _random_texts(seed, _MOSTLY_GSM, 0, 500):
        assert count_sms(text) == _reference_count(text), text


@pytest.mark.parametrize("seed", _SEEDS)
def test_gsm7_boundaries_match_reference(seed):
    for text in _random_texts(seed, "a€", 140, 480):
        assert count_sms(text) == _reference_count(text), text


@pytest.mark.parametrize("seed", _SEEDS)
def test_ucs2_boundaries_match_reference(seed):
    for text in _random_texts(seed, "я👋", 60, 240):
        assert count_sms(text) == _reference_count(text), text


@pytest.mark.parametrize("seed", _SEEDS)
def test_count_invariants_on_arbitrary_text(seed):
    rng = random.Random(seed)
    for _ in range(_ROUNDS):
        # Any code point except lone surrogates (not valid in real input).
        text = "".join(
            chr(rng.choice([rng.randrange(0x80), rng.randrange(0x800)]))
            if rng.random() < 0.7
            else chr(
                rng.choice(
                    [rng.randrange(0xE000, 0x10000), rng.randrange(0x10000, 0x110000)]
                )
            )
            for _ in range(rng.randint(0, 300))
        )
        result = count_sms(text)
        assert result == _reference_count(text), text
        assert 0 <= result.chars_left <= result.per_part
        assert result.chars_left < result.per_part or result.chars == 0
        assert result.parts * result.per_part >= result.chars + result.chars_left
        assert gsm7_safe(text) == (result.encoding == "gsm7")


# --------------------------------------------------------------------------
# gsm7_safe
# --------------------------------------------------------------------------


def test_gsm7_safe():
    assert gsm7_safe("")
    assert gsm7_safe("Hello, world! @£$¥ 100%")
    assert gsm7_safe("Price {5€} [x] ^~|\\")
    assert not gsm7_safe("Привет")
    assert not gsm7_safe("hi 👋")
    assert not gsm7_safe("a`b")


# --------------------------------------------------------------------------
# transliterate
# --------------------------------------------------------------------------


def test_transliterate_alphabet_lowercase():
    src = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    assert transliterate(src) == ("abvgdeyozhziyklmnoprstufkhtschshshchyeyuya")


def test_transliterate_alphabet_uppercase_run_is_all_caps():
    src = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
    assert transliterate(src) == ("ABVGDEYOZHZIYKLMNOPRSTUFKHTSCHSHSHCHYEYUYA")


def test_transliterate_brief_example():
    assert (
        transliterate("Щука Ёж, ЖУК «Привет» — №5…")
        == 'Shchuka Yozh, ZHUK "Privet" - N5...'
    )


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("Жук", "Zhuk"),  # next letter lowercase -> Title
        ("ЖУК", "ZHUK"),  # next letter uppercase -> ALL CAPS
        ("ЁЖ", "YOZH"),  # word-final after a capital -> ALL CAPS
        ("ЩИ", "SHCHI"),
        ("Ж", "Zh"),  # standalone capital stays Title
        ("Я тут", "Ya tut"),
        ("Жуков Ж. И.", "Zhukov Zh. I."),  # initials
        ("ОБЪЁМ", "OBYOM"),  # hard sign dropped, caps run preserved
        ("Объём", "Obyom"),
        ("ЧаЩа", "ChaShcha"),
        ("ООО «ЮГ»", 'OOO "YUG"'),
    ],
)
def test_transliterate_capitalisation(src, expected):
    assert transliterate(src) == expected


def test_transliterate_pangram():
    assert transliterate(
        "Съешь же ещё этих мягких французских булок, да выпей чаю."
    ) == ("Sesh zhe eshchyo etikh myagkikh frantsuzskikh bulok, da vypey chayu.")


def test_transliterate_drops_hard_and_soft_signs():
    assert transliterate("подъезд соль Льгота ЪЬ") == "podezd sol Lgota "


def test_transliterate_ukrainian():
    assert transliterate("Їжак і Ґанок, Європа") == "Yizhak i Ganok, Yevropa"
    assert transliterate("ЇЄ") == "YIYE"


def test_transliterate_typography():
    src = "«a» „b“ ‘c’ d—e–f−g №7 x…\u00a0100\u202f₽\u00ad\u200b\ufeff"
    assert transliterate(src) == '"a" "b" \'c\' d-e-f-g N7 x... 100 RUB'


def test_transliterate_leaves_other_text_alone():
    assert transliterate("Hello, world! 5€ {x}") == "Hello, world! 5€ {x}"
    assert transliterate("Grüße 👋") == "Grüße 👋"
    assert transliterate("") == ""


def test_transliteration_turns_two_ucs2_parts_into_one_gsm7_sms():
    src = (
        "Здравствуйте! Ваш заказ №77120 отправлен и будет доставлен завтра "
        "с 10:00 до 14:00. Код: 4829."
    )
    assert count_sms(src).encoding == "ucs2"
    assert count_sms(src).parts == 2
    out = transliterate(src)
    assert count_sms(out).encoding == "gsm7"
    assert count_sms(out).parts == 1


_RUSSIAN_INPUT = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
    "іїєґІЇЄҐ"
    " .,!?:;-()\"'%+=/\n0123456789"
    "«»„“”‘’—–−№…₽\u00a0\u202f\u00ad\u200b"
)


@pytest.mark.parametrize("seed", _SEEDS)
def test_transliterated_russian_is_always_gsm7(seed):
    for text in _random_texts(seed, _RUSSIAN_INPUT, 0, 200):
        out = transliterate(text)
        assert gsm7_safe(out), (text, out)
        assert count_sms(out).encoding == "gsm7"
