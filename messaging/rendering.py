"""Turning a campaign's text into each recipient's text (S4, S5, S14, S11).

Substitution commands are words in square brackets, as in the manual's
"Подставить" menu:

- contact fields: ``[ФИО]``, ``[Фамилия]``/``[f]``, ``[Имя]``/``[i]``,
  ``[Отчество]``/``[o]``, ``[Номер телефона]``, ``[Дата рождения]``, ``[Пол]``,
  ``[Email]``, ``[Ссылка]``, ``[Мобильный оператор]``, ``[Страна]``, ``[Регион]``;
- salutations by gender: ``[Уважаемый]`` → Уважаемый/Уважаемая,
  ``[Дорогой]`` → Дорогой/Дорогая, and a custom pair
  ``[Обращение:Милый/Милая]`` (male form when the gender is unknown).  A
  salutation followed by name commands (``[Уважаемый] [Имя] [Отчество]``) is
  one greeting: a contact without those names gets «Здравствуйте» instead of
  «Уважаемый !», and an empty middle name leaves no gap;
- custom fields (C11) by key (``[card]``) or by name (``[Номер карты]``);
- ``[couponCode]``: a unique promo code per recipient (promo action chosen),
  provided by the promo app through ``messaging.substitutions``.

Options: ``shorten_links`` turns every URL of the text into a per-message short
link on our own path, ``chat_link`` appends a link to the online chat (S14),
``transliterate`` turns Cyrillic into Latin after substitution.

Speed: the text is compiled once into a list of literal pieces and small
functions; ``render`` is a join over that list, so a million recipients cost a
million joins (plus an HMAC per short link).  The engine calls
``build_renderer(campaign)`` once per preparation, ``render(fields,
message_id)`` per recipient and ``flush()`` inside the transaction that writes
the rendered messages.
"""

import re
from collections.abc import Callable
from datetime import date

from contacts.models import Contact
from contacts.selectors import custom_fields

from . import substitutions
from .sms_text import transliterate

COMMAND = re.compile(r"\[([^\[\]\n]{1,60})\]")

# command (lower-case) → contact field
FIELD_ALIASES = {
    "f": "last_name",
    "фамилия": "last_name",
    "i": "first_name",
    "имя": "first_name",
    "o": "middle_name",
    "отчество": "middle_name",
    "номер телефона": "phone",
    "телефон": "phone",
    "phone": "phone",
    "дата рождения": "birth_date",
    "email": "email",
    "e-mail": "email",
    "ссылка": "link",
    "мобильный оператор": "operator",
    "оператор": "operator",
    "страна": "country",
    "регион": "region",
}
FIO = ("фио", "фамилия имя отчество")
GENDER_WORDS = ("пол",)
SALUTATIONS = {
    "уважаемый": ("Уважаемый", "Уважаемая"),
    "уважаемая": ("Уважаемый", "Уважаемая"),
    "дорогой": ("Дорогой", "Дорогая"),
    "дорогая": ("Дорогой", "Дорогая"),
}
CUSTOM_SALUTATION = re.compile(r"^обращение\s*:\s*([^/|]*)[/|]([^/|]*)$", re.IGNORECASE)
COUPON = "couponcode"
# A salutation whose names are all empty becomes this neutral greeting.
NEUTRAL_GREETING = "Здравствуйте"
GENDER_LABELS = {"m": "мужской", "f": "женский"}
# What «[Страна]» puts into the SMS: always Russian, whatever language the
# sender's cabinet shows (contacts.phones.COUNTRY_NAMES is the translated,
# display-only table).
COUNTRY_NAMES = {
    "RU": "Россия",
    "KZ": "Казахстан",
    "BY": "Беларусь",
    "UA": "Украина",
    "UZ": "Узбекистан",
    "KG": "Кыргызстан",
    "AM": "Армения",
}

Piece = str | Callable[[dict, int | None], str]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if (
        isinstance(value, str)
        and len(value) == 10
        and value[4] == "-"
        and value[7] == "-"
    ):
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            return value
    return str(value)


def _field(name: str) -> Callable:
    def get(fields, _mid):
        return _text(fields.get(name))

    return get


def _custom(key: str) -> Callable:
    def get(fields, _mid):
        extra = fields.get("extra") or {}
        return _text(extra.get(key))

    return get


def _gendered(male: str, female: str) -> Callable:
    def get(fields, _mid):
        return female if fields.get("gender") == "f" else male

    return get


def _fio(fields, _mid):
    parts = (
        fields.get("last_name"),
        fields.get("first_name"),
        fields.get("middle_name"),
    )
    return " ".join(p for p in parts if p)


def _gender(fields, _mid):
    return GENDER_LABELS.get(fields.get("gender") or "", "")


def _country(fields, _mid):
    code = fields.get("country") or ""
    return COUNTRY_NAMES.get(code, code)


# The contact fields each name command reads, in the order they are written.
NAME_FIELDS = {
    "f": ("last_name",),
    "фамилия": ("last_name",),
    "i": ("first_name",),
    "имя": ("first_name",),
    "o": ("middle_name",),
    "отчество": ("middle_name",),
    **dict.fromkeys(FIO, ("last_name", "first_name", "middle_name")),
}


def _greeting(male: str, female: str, keys: tuple[str, ...]) -> Callable:
    """«Уважаемый Иван Сергеевич» from the contact's name fields ``keys``, or
    the neutral greeting when it has none of them (and never a double space
    for a missing one).  Reads the fields directly: it runs once per message."""

    def get(fields, _mid):
        # Names are strings (phonebook columns, API recipients' fields).
        given = " ".join([v for v in map(fields.get, keys) if v and not v.isspace()])
        if not given:
            return NEUTRAL_GREETING
        return (female if fields.get("gender") == "f" else male) + " " + given

    return get


_SPACES = re.compile(r"[ \t]{2,}")


class Renderer:
    """Renders one campaign's text for each recipient.

    ``custom_fields`` maps lower-case command → custom field key (both the key
    and the field's name); ``extra`` maps further commands to callables
    ``(fields, message_id) -> str``; ``links`` maps each URL of the text to a
    callable ``message_id -> short URL``; ``suffix`` (e.g. the chat link) is a
    callable ``message_id -> str`` appended to the text."""

    def __init__(
        self,
        text: str,
        *,
        transliterate_text: bool = False,
        extra: dict[str, Callable] | None = None,
        custom_fields: dict[str, str] | None = None,
        links: dict[str, Callable[[int | None], str]] | None = None,
        suffix: Callable[[int | None], str] | None = None,
        on_flush: Callable[[], None] | None = None,
        contacts: dict[int, dict] | None = None,
    ):
        self.text = text
        self.contacts = contacts or {}
        self.transliterate_text = transliterate_text
        self.extra = {k.lower(): v for k, v in (extra or {}).items()}
        self.custom_fields = {k.lower(): v for k, v in (custom_fields or {}).items()}
        self.links = links or {}
        self.suffix = suffix
        self._on_flush = on_flush
        self.commands = COMMAND.findall(text)
        # Set by _compile: a salutation greets by name somewhere in the text.
        self.greets_by_name = False
        self.pieces: list[Piece] = self._compile(text)
        self.static = all(isinstance(p, str) for p in self.pieces)
        self._static_text = self._finish("".join(self.pieces)) if self.static else None
        # render() copies the literal pieces and fills the slots of the commands.
        self._slots = [
            (i, p) for i, p in enumerate(self.pieces) if not isinstance(p, str)
        ]
        self._template = [p if isinstance(p, str) else "" for p in self.pieces]

    # -- compile ----------------------------------------------------------------

    def _compile(self, text: str) -> list[Piece]:
        pieces: list[Piece] = []
        pos = 0
        matches = list(COMMAND.finditer(text))
        i = 0
        while i < len(matches):
            match = matches[i]
            pieces.extend(self._literal(text[pos : match.start()]))
            names = self._names_after(text, matches, i)
            if names:
                command = match.group(1).strip()
                pair = SALUTATIONS.get(command.lower()) or tuple(
                    g.strip() for g in CUSTOM_SALUTATION.match(command).groups()
                )
                keys = tuple(
                    key
                    for m in names
                    for key in NAME_FIELDS[m.group(1).strip().lower()]
                )
                pieces.append(_greeting(*pair, keys))
                self.greets_by_name = True
                match = names[-1]
                i += len(names)
            else:
                pieces.append(self._command(match))
            pos = match.end()
            i += 1
        pieces.extend(self._literal(text[pos:]))
        if self.suffix is not None:
            pieces.append(lambda _f, mid: self.suffix(mid))
        # Merge adjacent literals.
        merged: list[Piece] = []
        for p in pieces:
            if isinstance(p, str) and merged and isinstance(merged[-1], str):
                merged[-1] += p
            elif p != "":
                merged.append(p)
        return merged

    def _literal(self, chunk: str) -> list[Piece]:
        if not self.links or not chunk:
            return [chunk]
        from .links import URL_RE

        out: list[Piece] = []
        pos = 0
        for m in URL_RE.finditer(chunk):
            maker = self.links.get(m.group(0))
            if maker is None:
                continue
            out.append(chunk[pos : m.start()])
            out.append(lambda _f, mid, maker=maker: maker(mid))
            pos = m.end()
        out.append(chunk[pos:])
        return out

    def _names_after(self, text: str, matches: list, i: int) -> list[re.Match]:
        """The name commands right after the salutation ``matches[i]`` (only
        spaces between them); empty when ``matches[i]`` is no salutation."""
        command = matches[i].group(1).strip()
        key = command.lower()
        if key in self.extra or not (
            key in SALUTATIONS or CUSTOM_SALUTATION.match(command)
        ):
            return []
        names = []
        end = matches[i].end()
        for match in matches[i + 1 :]:
            gap = text[end : match.start()]
            if (gap and not gap.isspace()) or "\n" in gap:
                break
            key = match.group(1).strip().lower()
            if key not in NAME_FIELDS or key in self.extra:
                break
            names.append(match)
            end = match.end()
        return names

    def _command(self, match: re.Match) -> Piece:
        command = match.group(1).strip()
        key = command.lower()
        if key in self.extra:
            return self.extra[key]
        if key in FIO:
            return _fio
        if key in SALUTATIONS:
            return _gendered(*SALUTATIONS[key])
        custom = CUSTOM_SALUTATION.match(command)
        if custom:
            return _gendered(custom.group(1).strip(), custom.group(2).strip())
        if key in GENDER_WORDS:
            return _gender
        if key == "страна":
            return _country
        if key in FIELD_ALIASES:
            return _field(FIELD_ALIASES[key])
        if key in self.custom_fields:
            return _custom(self.custom_fields[key])
        # Not a command (e.g. "[sic]"): left as written.
        return match.group(0)

    # -- render -----------------------------------------------------------------

    def render(self, fields: dict | None = None, message_id: int | None = None) -> str:
        if self.static:
            return self._static_text
        fields = fields or {}
        own = fields.get("text")
        if own is not None and isinstance(own, str):
            # A recipient given with its own text (API, promo reminders) keeps it.
            return self._finish(own)
        if self.contacts and fields.get("contact_id") in self.contacts:
            fields = {**fields, **self.contacts[fields["contact_id"]]}
        out = self._template.copy()
        for i, fn in self._slots:
            out[i] = fn(fields, message_id)
        return self._finish("".join(out))

    def _finish(self, text: str) -> str:
        if "  " in text or "\t" in text:
            text = _SPACES.sub(" ", text)
        return transliterate(text) if self.transliterate_text else text

    def flush(self) -> None:
        """Persist side data (promo codes) of the messages rendered since the
        last flush; call inside the transaction that writes those messages."""
        if self._on_flush is not None:
            self._on_flush()


# Contact fields a person fills in (the numbering-plan ones — operator,
# country, region — and the phone itself are always there).
PERSONAL_FIELDS = {
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "email",
    "link",
    "gender",
}


def substituted_fields(
    text: str, custom_fields: dict[str, str] | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """The personal fields ``text`` substitutes, once each in the order written:
    ``("[Имя]", ("first_name",))``, ``("[ФИО]", ("last_name", "first_name",
    "middle_name"))``, ``("[card]", ("extra:card",))``.  A recipient lacks a
    command when every field of it is empty.  ``custom_fields`` as
    ``custom_field_commands`` returns."""
    custom = {k.lower(): v for k, v in (custom_fields or {}).items()}
    found: dict[str, tuple[str, ...]] = {}
    for match in COMMAND.finditer(text or ""):
        key = match.group(1).strip().lower()
        if key in FIO:
            fields = ("last_name", "first_name", "middle_name")
        elif key in GENDER_WORDS:
            fields = ("gender",)
        elif FIELD_ALIASES.get(key) in PERSONAL_FIELDS:
            fields = (FIELD_ALIASES[key],)
        elif key in custom:
            fields = (f"extra:{custom[key]}",)
        else:
            continue
        if fields not in found.values():
            found[match.group(0)] = fields
    return list(found.items())


def has_greeting(text: str) -> bool:
    """Whether ``text`` greets by name (a salutation right before names), so a
    recipient without them is greeted «Здравствуйте»."""
    return Renderer(text or "").greets_by_name


def custom_field_commands(*, account_id: int) -> dict[str, str]:
    """lower-case command → custom field key, by key and by name."""
    commands: dict[str, str] = {}
    for f in custom_fields(account_id=account_id):
        commands[f.name.lower()] = f.key
        commands[f.key.lower()] = f.key
    return commands


def chat_link_url(account_id: int) -> str:
    """The chat link's target: an external online chat when configured, else
    our own reply page (marked ``internal:chat``)."""
    from django.conf import settings

    return getattr(settings, "CHAT_REPLY_URL", "") or "internal:chat"


def build_renderer(campaign, *, preview: bool = False) -> Renderer:
    """The renderer of a campaign (``text``, ``options``, ``account_id``).

    Creates the campaign's ``CampaignLink`` rows (idempotent) unless
    ``preview`` — then links and promo codes are replaced by samples of a
    typical length and nothing is written (the compose page and quotes)."""
    from . import links as shortlinks

    options = campaign.options or {}
    text = campaign.text or ""
    account_id = campaign.account_id
    extra: dict[str, Callable] = {}
    flushes: list[Callable[[], None]] = []
    # Commands other apps provide ([couponCode]: promo) — messaging.substitutions.
    provided = substitutions.registered()
    for command in sorted({c.strip().lower() for c in COMMAND.findall(text)}):
        substitution = provided.get(command)
        if substitution is None:
            continue
        bound = substitution.build(campaign, preview=preview)
        extra[command] = bound.piece
        if bound.on_flush is not None:
            flushes.append(bound.on_flush)
    on_flush = _all(flushes) if flushes else None
    url_makers: dict[str, Callable] = {}
    if options.get("shorten_links"):
        urls = shortlinks.find_urls(text)
        if urls:
            if preview:
                sample = shortlinks.sample_link()
                url_makers = {u: (lambda mid: sample) for u in urls}
            else:
                rows = shortlinks.campaign_links(campaign=campaign, urls=urls)
                url_makers = {
                    u: shortlinks.LinkMaker(row.pk) for u, row in rows.items()
                }
    suffix = None
    if options.get("chat_link"):
        if preview:
            sample = shortlinks.sample_link()
            suffix = lambda mid: " " + sample  # noqa: E731
        else:
            row = shortlinks.campaign_links(
                campaign=campaign, urls=[chat_link_url(account_id)], kind="chat"
            )[chat_link_url(account_id)]
            maker = shortlinks.LinkMaker(row.pk)
            suffix = lambda mid: " " + maker(mid)  # noqa: E731
    has_commands = bool(COMMAND.search(text))
    custom = custom_field_commands(account_id=account_id) if has_commands else {}
    contacts = _direct_contacts(campaign) if has_commands and not preview else None
    renderer = Renderer(
        text,
        transliterate_text=bool(options.get("transliterate")),
        extra=extra,
        custom_fields=custom,
        links=url_makers,
        suffix=suffix,
        on_flush=on_flush,
        contacts=contacts,
    )
    if _has_own_texts(campaign):
        renderer.static = False
    return renderer


def _all(funcs: list[Callable[[], None]]) -> Callable[[], None]:
    def run() -> None:
        for func in funcs:
            func()

    return run


def _has_own_texts(campaign) -> bool:
    return any(
        r.get("text") is not None
        for r in (campaign.audience or {}).get("recipients") or []
    )


def _direct_contacts(campaign) -> dict[int, dict]:
    """Phonebook fields of recipients given directly by contact id (greetings),
    loaded in a few queries so their substitutions work like a group's."""
    ids = [
        r["contact_id"]
        for r in (campaign.audience or {}).get("recipients") or []
        if r.get("contact_id")
    ]
    if not ids:
        return {}
    fields = (
        "id",
        "last_name",
        "first_name",
        "middle_name",
        "gender",
        "birth_date",
        "email",
        "link",
        "operator",
        "country",
        "region",
        "timezone",
        "extra",
    )
    result: dict[int, dict] = {}
    for i in range(0, len(ids), 5000):
        for row in Contact.objects.filter(
            account_id=campaign.account_id, pk__in=ids[i : i + 5000]
        ).values(*fields):
            cid = row.pop("id")
            result[cid] = {k: v for k, v in row.items() if v not in ("", None)} | {
                "extra": row["extra"] or {}
            }
    return result


def preview_renderer(*, account, text: str, options: dict | None = None) -> Renderer:
    """A renderer for estimates (quotes, the compose preview): short links, the
    chat link and promo codes are samples of their real length; nothing is
    written."""
    from .models import Campaign

    campaign = Campaign(
        account=account, channel="sms", text=text, options=options or {}
    )
    return build_renderer(campaign, preview=True)
