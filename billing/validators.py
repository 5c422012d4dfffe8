"""Checks of Russian organisation requisites by their published algorithms."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]


def _check_digit(digits: str, weights) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """10 digits (organisation) or 12 digits (individual), checksums included."""
    if not re.fullmatch(r"\d{10}|\d{12}", inn or ""):
        return False
    if len(inn) == 10:
        return _check_digit(inn[:9], _INN10) == int(inn[9])
    return _check_digit(inn[:10], _INN12_11) == int(inn[10]) and _check_digit(
        inn[:11], _INN12_12
    ) == int(inn[11])


def validate_inn(value: str) -> None:
    if not re.fullmatch(r"\d{10}|\d{12}", value or ""):
        raise ValidationError(
            _("ИНН состоит из 10 (организация) или 12 (ИП) цифр."), code="inn_format"
        )
    if not inn_is_valid(value):
        raise ValidationError(
            _("Неверный ИНН: не сходится контрольное число."), code="inn_checksum"
        )


def validate_kpp(value: str) -> None:
    # NNNN (tax office) + PP (reason: digits or capital Latin letters) + XXX.
    if not re.fullmatch(r"\d{4}[0-9A-Z]{2}\d{3}", value or ""):
        raise ValidationError(
            _("КПП — 9 символов: 4 цифры, 2 цифры или латинские буквы, 3 цифры."),
            code="kpp_format",
        )


def validate_bic(value: str) -> None:
    if not re.fullmatch(r"04\d{7}", value or ""):
        raise ValidationError(
            _("БИК банка России — 9 цифр и начинается с 04."), code="bic_format"
        )


def _account_key_ok(prefix3: str, account: str) -> bool:
    digits = prefix3 + account
    return (
        sum(int(d) * w for d, w in zip(digits, _ACCOUNT_WEIGHTS, strict=True)) % 10 == 0
    )


def settlement_account_is_valid(account: str, bic: str) -> bool:
    """The control key of a settlement account with a bank's BIC (last 3 digits)."""
    if not re.fullmatch(r"\d{20}", account or "") or not re.fullmatch(
        r"\d{9}", bic or ""
    ):
        return False
    return _account_key_ok(bic[-3:], account)


def correspondent_account_is_valid(account: str, bic: str) -> bool:
    """The control key of a correspondent account ("0" + BIC digits 5–6)."""
    if not re.fullmatch(r"301\d{17}", account or "") or not re.fullmatch(
        r"\d{9}", bic or ""
    ):
        return False
    return _account_key_ok("0" + bic[4:6], account)
