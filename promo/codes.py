"""Promo code generation: unguessable, unambiguous, fast.

Codes are drawn from ``secrets`` (the OS CSPRNG) over a 31-character alphabet
without the look-alikes 0/O, 1/I/L.  Random bytes are mapped to characters with
``bytes.translate`` (C speed); bytes ≥ 248 (= 31 × 8) are dropped rather than
folded, so every character is exactly equally likely (no modulo bias).

Guessing: with ``n`` live codes of length ``L`` a random guess hits one with
probability n / 31**L.  ``SAFETY`` keeps that at most 1/1000 per guess, and the
check page throttles failed guesses (promo.services), so brute force cannot
work.  The same rule keeps generation collisions rare (≤ 0.1 % per code).
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0 O 1 I L
ALPHABET_SIZE = len(ALPHABET)  # 31
_KEEP = ALPHABET_SIZE * (256 // ALPHABET_SIZE)  # 248: bytes below map evenly
_TABLE = bytes(ord(ALPHABET[i % ALPHABET_SIZE]) if i < _KEEP else 0 for i in range(256))
_DROP = bytes(range(_KEEP, 256))
_VALID = frozenset(ALPHABET)

# A code space must be at least this many times larger than the codes in it.
SAFETY = 1000


def random_codes(count: int, length: int) -> list[str]:
    """``count`` random codes of ``length`` characters (may repeat; callers
    de-duplicate)."""
    need = count * length
    chunks: list[bytes] = []
    have = 0
    while have < need:
        # 248/256 of the bytes survive; ask for a little more than needed.
        raw = secrets.token_bytes((need - have) * 265 // 248 + 16)
        part = raw.translate(_TABLE, _DROP)
        chunks.append(part)
        have += len(part)
    text = b"".join(chunks)[:need].decode("ascii")
    return [text[i : i + length] for i in range(0, need, length)]


def capacity(length: int) -> int:
    """How many codes of ``length`` an account may hold (see SAFETY)."""
    return ALPHABET_SIZE**length // SAFETY


def min_length_for(count: int) -> int:
    """The shortest code length whose space holds ``count`` codes safely."""
    length = 1
    while capacity(length) < count:
        length += 1
    return length


def normalize_code(raw: str) -> str:
    """What a clerk typed → the stored form: upper case, without spaces and
    dashes.  Returns "" when it cannot be a code (wrong characters/length)."""
    code = "".join(str(raw or "").split()).replace("-", "").upper()
    if not 4 <= len(code) <= 15 or not set(code) <= _VALID:
        return ""
    return code
