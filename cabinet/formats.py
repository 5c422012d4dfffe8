"""How the cabinet writes numbers people read: one money format everywhere.

Roubles have two decimals and the separators of the reader's language
(«2,75 ₽» in Russian, «2.75 ₽» in English), on pages, in flash messages and
in stored notification texts alike.  Templates use the ``money`` filter
(a builtin: ``{{ campaign.cost|money }}``), Python code ``money(value)``."""

from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.formats import number_format

CENT = Decimal("0.01")
RUB = "₽"


def amount(value, *, language: str | None = None) -> str:
    """``value`` with two decimals in the language's format, no currency sign
    («1000,00»).  ``language`` fixes the language (texts stored in Russian
    whoever triggers them); otherwise the active one."""
    try:
        number = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if language:
        with translation.override(language):
            return number_format(number, 2)
    return number_format(number, 2)


def money(value, *, language: str | None = None) -> str:
    """«2,75 ₽» (a no-break space keeps the sign with its number)."""
    return f"{amount(value, language=language)}\u00a0{RUB}"


def money_ru(value) -> str:
    """``money`` for texts stored or sent in Russian (notifications, SMS,
    ledger reasons), whatever language the request that caused them spoke."""
    return money(value, language="ru")


def amount_ru(value) -> str:
    return amount(value, language="ru")
