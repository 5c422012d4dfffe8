"""Russian (and Ukrainian) transliteration to GSM-7-safe Latin.

Pure Python, no Django.  Its one copy lives here, in the lowest layer that
uses it: the phonebook makes custom-field keys with it, and the messaging app
transliterates SMS texts with it (re-exported as ``messaging.sms_text.
transliterate``; the compose page's live counter gets ``counting_table()``).
"""

from __future__ import annotations

import re

__all__ = ["counting_table", "transliterate"]


# Practical "SMS provider" scheme, close to GOST 7.79-2000 system B without
# diacritics and to the transliteration used on Russian passports. Both hard
# (ъ) and soft (ь) signs are dropped: the apostrophe some schemes use for ь is
# valid GSM-7 but reads as noise in an SMS, and recipients read "Sol", "Lgota"
# without trouble. "е" is always "e" (no word-initial "ye"), as providers do.
_LOWER = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Ukrainian letters (national 2010 scheme, simplified to word-medial form).
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
}

# Typography that Russian keyboards, Word and messengers insert and that
# would otherwise force UCS-2 for an otherwise Latin text.
_PUNCT = {
    "«": '"',
    "»": '"',
    "„": '"',
    "“": '"',
    "”": '"',
    "‟": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "—": "-",  # em dash
    "–": "-",  # en dash
    "‒": "-",  # figure dash
    "―": "-",  # horizontal bar
    "‐": "-",  # hyphen
    "‑": "-",  # non-breaking hyphen
    "−": "-",  # minus sign
    "№": "N",
    "…": "...",
    "₽": "RUB",
    "\u00a0": " ",  # no-break space
    "\u2007": " ",  # figure space
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u00ad": "",  # soft hyphen (invisible)
    "\u200b": "",  # zero-width space (invisible)
    "\ufeff": "",  # BOM / zero-width no-break space (invisible)
}

# Default table: lowercase as is, uppercase in Title form ("Ж" -> "Zh").
_TRANSLIT_TABLE = str.maketrans(
    {
        **_LOWER,
        **{k.upper(): v.capitalize() for k, v in _LOWER.items()},
        **_PUNCT,
    }
)

# Uppercase letters whose Latin form has several letters: these are the only
# ones where Title vs ALL CAPS matters.
_MULTI_UPPER = {k.upper(): v.upper() for k, v in _LOWER.items() if len(v) > 1}
_UPPER = "A-ZА-ЯЁЄІЇҐ"
_LETTER = "A-Za-zА-Яа-яЁёЄєІіЇїҐґ"
_MULTI = "".join(_MULTI_UPPER)
# A multi-letter capital is written ALL CAPS when it sits in an upper-case
# run: followed by a capital ("ЖУК" -> "ZHUK"), or ending a word right after
# a capital ("ЁЖ" -> "YOZH"). Everything else keeps the Title form.
_CAPS_RE = re.compile(
    f"[{_MULTI}](?=[{_UPPER}])"  # followed by a capital
    f"|(?<=[{_UPPER}])[{_MULTI}](?![{_LETTER}])"  # word-final after a capital
)


def _caps(match: re.Match[str]) -> str:
    return _MULTI_UPPER[match.group()]


def transliterate(text: str) -> str:
    """Transliterate Russian (and Ukrainian) Cyrillic to GSM-7-safe Latin.

    Used to fit Russian text into 160-char GSM-7 SMS instead of 70-char
    UCS-2. Letters follow the practical scheme used by SMS providers
    (``ж``→``zh``, ``х``→``kh``, ``ц``→``ts``, ``щ``→``shch``, ``ё``→``yo``,
    ``й``/``ы``→``y``, ``ю``→``yu``, ``я``→``ya``; Ukrainian ``і ї є ґ`` →
    ``i yi ye g``); ``ъ`` and ``ь`` are dropped.

    Case: a capital whose Latin form has several letters is written in Title
    form ("Жук" → "Zhuk", also a lone "Ж." initial → "Zh.") unless it sits in
    an upper-case run - followed by a capital, or ending a word right after a
    capital - where it is ALL CAPS ("ЖУК" → "ZHUK", "ЁЖ" → "YOZH"). This is
    the brief's "capitalise only when the next letter is lowercase" rule,
    except that standalone capitals (initials, "Я") stay Title case.

    Typography is flattened too: «» „“” → ``"``, ‘’ → ``'``, em/en dashes
    and minus → ``-``, № → ``N``, … → ``...``, ₽ → ``RUB``, no-break and thin
    spaces → space, and invisible soft hyphens / zero-width spaces / BOMs
    are removed. Other characters pass through unchanged, so the result is
    GSM-7 safe for Russian input; check ``messaging.sms_text.gsm7_safe`` for
    arbitrary text.
    """
    if text.isascii():
        return text
    return _CAPS_RE.sub(_caps, text).translate(_TRANSLIT_TABLE)


def counting_table() -> dict[str, str]:
    """The character table for a live length counter (the compose page's JS
    counts the transliterated text when "Транслитерация СМС" is on).  Case does
    not change lengths, so capitals map to the lower-case forms."""
    return {**_LOWER, **{k.upper(): v for k, v in _LOWER.items()}, **_PUNCT}
