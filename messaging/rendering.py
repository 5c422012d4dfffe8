"""Turning a campaign's text into each recipient's text.

Substitution commands are words in square brackets, as in the manual's "Подставить"
menu: ``[Имя]``/``[i]``, ``[Фамилия]``/``[f]``, ``[Отчество]``/``[o]``,
``[Уважаемый]`` (Уважаемый/Уважаемая by gender), custom fields by their key, and
``[couponCode]`` (promo).  The engine calls ``Renderer`` once per campaign and
``render`` once per recipient; a text without commands is not re-rendered.
"""

import re
from collections.abc import Callable

from .sms_text import transliterate

COMMAND = re.compile(r"\[([^\[\]\n]{1,40})\]")

# command (lower-case) → contact field
FIELD_ALIASES = {
    "f": "last_name", "фамилия": "last_name",
    "i": "first_name", "имя": "first_name",
    "o": "middle_name", "отчество": "middle_name",
    "номер телефона": "phone", "телефон": "phone", "phone": "phone",
    "дата рождения": "birth_date", "email": "email", "ссылка": "link",
    "мобильный оператор": "operator", "оператор": "operator", "страна": "country",
    "регион": "region",
}
SALUTATIONS = {
    "уважаемый": ("Уважаемый", "Уважаемая"),
    "дорогой": ("Дорогой", "Дорогая"),
}


def _fio(fields: dict) -> str:
    parts = (fields.get("last_name"), fields.get("first_name"), fields.get("middle_name"))
    return " ".join(p for p in parts if p)


class Renderer:
    """Renders one campaign's text for each recipient.

    ``extra`` maps additional commands (e.g. ``couponCode``) to a callable taking
    the recipient's fields and returning the value."""

    def __init__(self, text: str, *, transliterate_text: bool = False,
                 extra: dict[str, Callable[[dict], str]] | None = None):
        self.text = text
        self.transliterate_text = transliterate_text
        self.extra = {k.lower(): v for k, v in (extra or {}).items()}
        self.commands = COMMAND.findall(text)
        self.static = not self.commands
        self._static_text = self._finish(text) if self.static else None

    def render(self, fields: dict | None = None) -> str:
        if self.static:
            return self._static_text
        fields = fields or {}
        custom = fields.get("extra") or {}

        def substitute(match: re.Match) -> str:
            command = match.group(1).strip()
            key = command.lower()
            if key in self.extra:
                return str(self.extra[key](fields))
            if key in ("фио", "фамилия имя отчество"):
                return _fio(fields)
            if key in SALUTATIONS:
                male, female = SALUTATIONS[key]
                return female if fields.get("gender") == "f" else male
            if key in FIELD_ALIASES:
                value = fields.get(FIELD_ALIASES[key])
                return "" if value is None else str(value)
            for name, value in custom.items():
                if name.lower() == key:
                    return "" if value is None else str(value)
            return match.group(0)

        return self._finish(COMMAND.sub(substitute, self.text))

    def _finish(self, text: str) -> str:
        text = re.sub(r"[ \t]{2,}", " ", text)
        return transliterate(text) if self.transliterate_text else text
