"""Event types, the fields their conditions may read, and conditions.

An event's *subjects* are what a handler acts on: the contacts added, the
messages whose status changed, the reply, or — for account events (balance,
payment, campaign) — the event itself.  A subject is a flat dict; a condition
``{"field", "op", "value"}`` reads one key of it.  All conditions must hold.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

# -- fields -------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    # "text", "number", "group", "choice"
    type: str = "text"
    choices: tuple = ()


SOURCES = (
    ("manual", _("вручную")),
    ("quick", _("быстрое добавление")),
    ("import", _("загрузка из файла")),
    ("api", _("через API")),
    ("copy", _("копирование или перенос")),
    ("report", _("из отчёта")),
)

CONTACT_FIELDS = (
    Field("group", _("Группа"), "group"),
    Field("phone", _("Номер телефона")),
    Field("last_name", _("Фамилия")),
    Field("first_name", _("Имя")),
    Field("middle_name", _("Отчество")),
    Field("gender", _("Пол"), "choice", (("m", _("мужской")), ("f", _("женский")))),
    Field("operator", _("Оператор")),
    Field("region", _("Регион")),
    Field("country", _("Страна")),
    Field("email", _("Email")),
)
# The values a subject of a contact event carries (custom fields come as
# ``extra.<key>``).
CONTACT_VALUES = (
    "id",
    "phone",
    "group_id",
    "last_name",
    "first_name",
    "middle_name",
    "gender",
    "operator",
    "region",
    "country",
    "email",
    "timezone",
    "extra",
)

OPS = {
    "eq": _("равно"),
    "ne": _("не равно"),
    "contains": _("содержит"),
    "gt": _("больше"),
    "lt": _("меньше"),
}

# -- event types --------------------------------------------------------------

CONTACT_ACTIONS = (
    "sms_contact",
    "viber_contact",
    "sms_staff",
    "webhook",
    "group_add",
    "group_move",
)
ACCOUNT_ACTIONS = ("sms_staff", "webhook")


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    description: str
    fields: tuple[Field, ...] = ()
    actions: tuple[str, ...] = CONTACT_ACTIONS
    # Contacts' own fields (and custom fields) may be conditions.
    contact_fields: bool = False
    settings: tuple[str, ...] = field(default=())


MESSAGE_FIELDS = (
    Field("channel", _("Канал"), "channel"),
    Field("phone", _("Номер телефона")),
    Field("tag", _("Тэг рассылки")),
)

KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind(
            "contact_added",
            _("Добавлен новый контакт"),
            _(
                "Контакт добавлен в группу: вручную, быстрым добавлением, "
                "загрузкой из файла или через API."
            ),
            fields=(Field("source", _("Способ добавления"), "choice", SOURCES),),
            contact_fields=True,
        ),
        Kind(
            "contact_date",
            _("Дата в контакте"),
            _(
                "День рождения или другая дата из карточки контакта — в выбранное "
                "время по часовому поясу контакта."
            ),
            contact_fields=True,
            settings=("date_field", "at"),
        ),
        Kind(
            "message_delivered",
            _("Сообщение доставлено"),
            _("Оператор подтвердил доставку сообщения (СМС, Viber и другие каналы)."),
            fields=MESSAGE_FIELDS,
        ),
        Kind(
            "message_undelivered",
            _("Сообщение не доставлено"),
            _("Сообщение не доставлено, истекло или не отправлено."),
            fields=MESSAGE_FIELDS,
        ),
        Kind(
            "message_clicked",
            _("Переход по ссылке"),
            _("Получатель нажал на ссылку или кнопку в сообщении."),
            fields=MESSAGE_FIELDS,
        ),
        Kind(
            "reply_received",
            _("Входящий ответ"),
            _("Получатель ответил на сообщение (СМС, Viber, чат)."),
            fields=(
                Field("channel", _("Канал"), "channel"),
                Field("phone", _("Номер телефона")),
                Field("text", _("Текст ответа")),
            ),
        ),
        Kind(
            "balance_low",
            _("Баланс ниже порога"),
            _("Баланс опустился ниже заданной суммы."),
            actions=ACCOUNT_ACTIONS,
            settings=("threshold",),
        ),
        Kind(
            "payment_credited",
            _("Поступил платёж"),
            _("Платёж зачислен на баланс."),
            fields=(Field("amount", _("Сумма, ₽"), "number"),),
            actions=ACCOUNT_ACTIONS,
        ),
        Kind(
            "campaign_finished",
            _("Рассылка завершена"),
            _("Все сообщения рассылки получили итоговый статус."),
            fields=(
                Field("channel", _("Канал"), "channel"),
                Field("tag", _("Тэг рассылки")),
            ),
            actions=ACCOUNT_ACTIONS,
        ),
    )
}

# Message statuses → the event type they raise.
STATUS_KINDS = {
    "delivered": "message_delivered",
    "viewed": "message_delivered",
    "success": "message_delivered",
    "undelivered": "message_undelivered",
    "expired": "message_undelivered",
    "failed": "message_undelivered",
    "clicked": "message_clicked",
}


def kind_fields(kind: Kind, custom_fields=()) -> list[Field]:
    """Every field a condition of ``kind`` may read (custom fields as
    ``extra.<key>``)."""
    out = list(kind.fields)
    if kind.contact_fields:
        out += list(CONTACT_FIELDS)
        out += [Field(f"extra.{f.key}", f.name) for f in custom_fields]
    return out


# -- conditions -----------------------------------------------------------------


class ConditionError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _number(value) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError):
        return None


def value_of(subject: dict, key: str):
    if key.startswith("extra."):
        return (subject.get("extra") or {}).get(key[6:])
    if key == "group":
        return subject.get("group_id")
    if key == "tag":
        return subject.get("tags") or []
    return subject.get(key)


def holds(condition: dict, subject: dict) -> bool:
    op, want = condition["op"], condition["value"]
    have = value_of(subject, condition["field"])
    if isinstance(have, list):  # tags: any of them
        return any(holds({**condition, "field": "_"}, {"_": v}) for v in have) or (
            op == "ne" and not have
        )
    if op in ("gt", "lt"):
        a, b = _number(have), _number(want)
        if a is None or b is None:
            return False
        return a > b if op == "gt" else a < b
    text = "" if have is None else str(have)
    want = str(want)
    if op == "contains":
        return want.lower() in text.lower()
    same = text.strip().lower() == want.strip().lower()
    return same if op == "eq" else not same


def matches(conditions: list[dict], subject: dict) -> bool:
    return all(holds(c, subject) for c in conditions)
