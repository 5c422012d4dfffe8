"""SMS length accounting and GSM-7 detection; Russian transliteration is
re-exported from ``contacts.translit`` (its one copy: the phonebook, a lower
layer, needs it too).

Everything here is pure Python with no Django imports, so it can be used from
views, serializers, Celery tasks and the browser-side preview API alike, and
tested without a database.

Why the rules look the way they do
----------------------------------
An SMS carries 140 octets of user data. In the GSM 03.38 default alphabet a
character is a 7-bit *septet*, so one message holds 160 of them. Characters
from the extension table (``^ { } \\ [ ~ ] | €`` and form feed) are sent as an
ESC septet followed by the character, i.e. they cost 2 septets. Any character
outside both tables forces the whole message into UCS-2 (really UTF-16BE),
2 octets per code unit, so one message holds 70 units.

A long message is split into parts that each carry a 6-octet User Data Header
(UDH) for reassembly, which leaves 153 septets (GSM-7) or 67 units (UCS-2) per
part. A part must not end in the middle of an ESC pair or of a UTF-16
surrogate pair, otherwise the receiving handset would show garbage; the
splitter then moves the whole pair into the next part and the last slot of
the earlier part is wasted. Counting therefore has to follow the same greedy
split that the SMSC does, which is what :func:`count_sms` does.

Performance
-----------
:func:`count_sms` sits on hot paths (live preview while typing, pricing of
bulk campaigns of millions of recipients), so the common cases are answered
with precompiled regular expressions and C-level string methods only; a
per-character Python loop runs only when a multipart message has to be split
around extension characters (GSM-7) or astral characters such as emoji
(UCS-2). Results for the common cases depend only on a length and are served
from a small cache of immutable :class:`SmsCount` instances. Run
``python -m messaging.sms_text`` for a micro-benchmark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from contacts.translit import transliterate

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SmsCount",
    "count_sms",
    "gsm7_safe",
    "transliterate",
]

# --------------------------------------------------------------------------
# GSM 03.38 alphabet
# --------------------------------------------------------------------------

#: The GSM 03.38 default alphabet (basic table), 127 characters: the 128 code
#: points minus 0x1B, which is the escape to the extension table rather than a
#: character. Rows follow the standard table (0x00-0x0F, 0x10-0x1F, ...).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

#: The extension table characters; each is sent as ESC + char = 2 septets.
GSM7_EXTENSION = "\f^{}\\[~]|€"

_GSM7_BASIC_SET = frozenset(GSM7_BASIC)
_GSM7_EXT_SET = frozenset(GSM7_EXTENSION)

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67


def _char_class(chars: str, negate: bool = False) -> str:
    r"""Build a regex character class, escaping every char as ``\uXXXX``.

    Escaping everything sidesteps the special meaning of ``]``, ``\``, ``^``
    and ``-`` inside a class and keeps ``\n``/``\r``/``\f`` readable.
    """
    body = "".join(f"\\u{ord(c):04x}" for c in chars)
    return f"[{'^' if negate else ''}{body}]"


# First char that is not in the basic table (extension chars *and* non-GSM).
_NOT_BASIC_RE = re.compile(_char_class(GSM7_BASIC, negate=True))
# First char that is in neither table, i.e. forces UCS-2.
_NOT_GSM7_RE = re.compile(_char_class(GSM7_BASIC + GSM7_EXTENSION, negate=True))
# Extension-table chars, each costing one extra (ESC) septet.
_EXT_RE = re.compile(_char_class(GSM7_EXTENSION))


# --------------------------------------------------------------------------
# count_sms
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmsCount:
    """How a text is billed as SMS.

    Attributes:
        encoding: ``"gsm7"`` or ``"ucs2"``.
        parts: number of SMS parts (billing units); at least 1, even for "".
        chars: septets used (gsm7, extension chars count 2) or UTF-16 code
            units used (ucs2, astral chars such as most emoji count 2).
        chars_left: free septets/units in the last part before one more part
            would be needed. See :func:`count_sms` for the multipart rule.
        per_part: capacity of one part in this message: 160/70 when it fits
            in a single SMS, 153/67 once it is split (UDH overhead).
    """

    encoding: str
    parts: int
    chars: int
    chars_left: int
    per_part: int


@lru_cache(maxsize=4096)
def _gsm7_plain(septets: int) -> SmsCount:
    """Result for ``septets`` GSM-7 septets when no ESC pair can straddle.

    Cached because it depends on the length only; instances are immutable so
    sharing them between callers is safe, and it saves building a frozen
    dataclass on every call.
    """
    if septets <= GSM7_SINGLE:
        return SmsCount("gsm7", 1, septets, GSM7_SINGLE - septets, GSM7_SINGLE)
    parts = -(-septets // GSM7_MULTI)
    return SmsCount("gsm7", parts, septets, parts * GSM7_MULTI - septets, GSM7_MULTI)


@lru_cache(maxsize=4096)
def _ucs2_plain(units: int) -> SmsCount:
    """Result for ``units`` UTF-16 units when no surrogate pair can straddle."""
    if units <= UCS2_SINGLE:
        return SmsCount("ucs2", 1, units, UCS2_SINGLE - units, UCS2_SINGLE)
    parts = -(-units // UCS2_MULTI)
    return SmsCount("ucs2", parts, units, parts * UCS2_MULTI - units, UCS2_MULTI)


def _split_gsm7(text: str, septets: int) -> SmsCount:
    """Greedy multipart split of a GSM-7 text containing extension chars.

    A 2-septet ESC pair that would not fit in the current part is moved whole
    to the next part, wasting the last septet of the current one.
    """
    ext = _GSM7_EXT_SET
    parts = 1
    used = 0
    for ch in text:
        cost = 2 if ch in ext else 1
        used += cost
        if used > GSM7_MULTI:
            parts += 1
            used = cost
    return SmsCount("gsm7", parts, septets, GSM7_MULTI - used, GSM7_MULTI)


def _split_ucs2(text: str, units: int) -> SmsCount:
    """Greedy multipart split of a UCS-2 text containing astral chars.

    A surrogate pair (2 units) that would not fit in the current part is moved
    whole to the next part, wasting the last unit of the current one.
    """
    parts = 1
    used = 0
    for ch in text:
        cost = 2 if ch > "\uffff" else 1
        used += cost
        if used > UCS2_MULTI:
            parts += 1
            used = cost
    return SmsCount("ucs2", parts, units, UCS2_MULTI - used, UCS2_MULTI)


def count_sms(text: str) -> SmsCount:
    """Count the SMS parts, encoding and remaining room for ``text``.

    Rules:

    * If every character is in the GSM 03.38 basic or extension table, the
      text is sent as GSM-7: basic chars cost 1 septet, extension chars
      (``^{}\\[~]|€`` and form feed) cost 2. Up to 160 septets fit in one
      SMS; longer texts are split into parts of 153 septets, and an ESC pair
      is never split across parts (a part then carries only 152).
    * Otherwise the text is sent as UCS-2, counted in UTF-16 code units
      (chars outside the BMP, e.g. most emoji, cost 2): 70 in one SMS, 67
      per part when split, and a surrogate pair is never split across parts.
    * The empty text is one (empty) GSM-7 part with 160 septets left.

    ``chars_left`` is the room left in the *last* part before another part
    is needed. For a single SMS it is ``160 - chars`` (or ``70 - chars``).
    For a multipart message it is the exact room under the greedy split the
    SMSC performs, i.e. ``parts * per_part - chars - wasted`` where
    ``wasted`` is the number of part-final slots left empty because an ESC
    pair or surrogate pair was pushed to the next part. We chose the exact
    figure over the simpler ``parts * per_part - chars`` because the latter
    overstates the room (by one per straddle) and the UI would promise a
    character that actually starts a new part. It is measured in septets or
    units, so ``chars_left == 1`` means one more basic/BMP character fits but
    not an extension or astral one.
    """
    if _NOT_BASIC_RE.search(text) is None:
        # Fast path: basic GSM-7 only (covers "" too), 1 septet per char.
        return _gsm7_plain(len(text))

    if _NOT_GSM7_RE.search(text) is None:
        # GSM-7 with extension chars: one extra ESC septet for each.
        septets = len(text) + len(_EXT_RE.findall(text))
        if septets <= GSM7_SINGLE:
            return _gsm7_plain(septets)
        return _split_gsm7(text, septets)

    # UCS-2. Encoding is a C loop and also counts surrogate pairs for us;
    # "surrogatepass" keeps lone surrogates (1 unit each) from raising.
    units = len(text.encode("utf-16-le", "surrogatepass")) >> 1
    if units <= UCS2_SINGLE or units == len(text):
        # Single SMS, or no astral char so no pair can straddle a boundary.
        return _ucs2_plain(units)
    return _split_ucs2(text, units)


def gsm7_safe(text: str) -> bool:
    """Return True if ``text`` can be sent in the GSM-7 alphabet.

    Extension-table characters count as safe (they only cost 2 septets);
    any other character would switch the whole message to UCS-2 and cut
    the capacity from 160 to 70 characters per SMS.
    """
    return _NOT_GSM7_RE.search(text) is None


# --------------------------------------------------------------------------
# Micro-benchmark: python -m messaging.sms_text
# --------------------------------------------------------------------------


def _benchmark(seconds: float = 1.0) -> None:
    import time

    samples = {
        "ascii": (
            "Your verification code is 482913. It expires in 10 minutes. "
            "Do not share it with anyone. Reply STOP to opt out."
        ),
        "ascii-long": (
            "Dear customer, your order #A-77120 has been shipped and will be "
            "delivered tomorrow between 10:00 and 14:00. Track it at "
            "example.com/t/77120 or call us at +7 800 555-35-35."
        ),
        "cyrillic": (
            "Здравствуйте! Ваш заказ №77120 отправлен и будет доставлен завтра "
            "с 10:00 до 14:00. Код получения: 4829."
        ),
        "gsm-ext": "Sale -20% on all items [today only] for just 15€! Use {CODE}",
        "emoji-multi": "Привет 👋 " * 12,
    }
    total_n = 0
    total_t = 0.0
    for name, text in samples.items():
        n = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(10_000):
                count_sms(text)
            n += 10_000
        total_n += n
        total_t += elapsed
        print(f"{name:12} {len(text):4} chars  {n / elapsed:12,.0f} msg/s")
    print(f"{'overall':12}             {total_n / total_t:12,.0f} msg/s")


if __name__ == "__main__":
    _benchmark()
