"""The provider-compatible JSON API v1.0 (SPEC A3, ``/work/shared/API-COMPAT.md``).

``compat_send`` turns a ``/json/v1.0/sms/send/text`` body into campaigns (one
per sender and per-message options) through ``messaging.services``;
``compat_status`` answers ``/json/v1.0/sms/status``.  Both return the
provider's envelope (``success`` + ``result`` or ``error{code, descr}``).

Every message is answered in the order submitted, with the client's ``id`` (or
ours, when it gave none).  Only a true replay — the same ``id``, recipient and
text as a message this account already sent — is answered without sending
(``replay_key`` → ``Message.client_key``, unique per account); a reused ``id``
with other content is a new message.

Errors are answered with HTTP 200 and ``success: false`` (the provider's
protocol; clients built on ``file_get_contents`` or ``raise_for_status`` never
read a 4xx body).  The same code serves the XML API and the legacy ``lcabApi``
calls (``integrations.legacy``).
"""

import hashlib
import re
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection
from django.db.models import Max
from django.utils import timezone

from contacts.phones import InvalidPhone, lookup, normalize_phone
from contacts.selectors import blocked_phones
from contacts.translit import transliterate as transliterate_text
from messaging import registry, services
from messaging.models import Campaign, Message, MessageStatus, Source
from messaging.planning import LaunchError
from messaging.services import Recipient
from scenarios import selectors as scenario_selectors
from scenarios import services as scenario_services
from scenarios.blocks import BlockError, chain_clean
from scenarios.models import Scenario
from voice.services import VoiceError, callpassword_send

# The provider's JSON API sends SMS.
CHANNEL = "sms"

S = MessageStatus

# --- status words ----------------------------------------------------------------
# Our statuses → the provider's words.  "intermediate" (an intermediate carrier
# report) has no counterpart: our receipts are final or absent.
STATUS_WORDS = {
    S.MODERATION: "moder",
    S.DEFERRED: "waiting",
    S.QUEUED: "enqueued",
    S.SENDING: "sending",
    S.SENT: "process",
    S.DELIVERED: "delivered",
    S.VIEWED: "delivered",
    S.SUCCESS: "delivered",
    S.IVR: "delivered",
    S.UNSUBSCRIBED: "delivered",
    S.CLICKED: "click",
    S.SPAM: "undelivered",
    S.UNDELIVERED: "undelivered",
    S.CANCELLED: "cancel",
    S.EXPIRED: "finalizator",
    S.FAILED: "providerCancel",
}


def status_word(status: str, campaign_status: str | None = None) -> str:
    if status == S.CANCELLED and campaign_status == Campaign.Status.REJECTED:
        return "moderCancel"
    return STATUS_WORDS.get(status, "unknown")


# --- error codes ----------------------------------------------------------------
class Code:
    """``error.code`` values (documented in docs/API.md and the cabinet's page)."""

    BAD_REQUEST = 400  # malformed JSON, wrong field types
    UNAUTHORIZED = 401  # missing, unknown or revoked token or login; wrong IP
    INSUFFICIENT_FUNDS = 402
    FORBIDDEN = 403  # token without the "messaging" scope; blocked account
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    TOO_LARGE = 413  # body over the size cap, too many messages
    RATE_LIMITED = 429
    SERVER_ERROR = 500
    NOT_AVAILABLE = 501  # a feature this service does not offer yet
    # per message
    INVALID_RECIPIENT = 1001
    EMPTY_TEXT = 1002
    DUPLICATE_RECIPIENT = 1003
    STOP_LIST = 1004
    OPERATOR_NOT_ALLOWED = 1005
    # 1006 (a repeated id inside one request) is no longer an error: a reused
    # id with other content is another message.
    INVALID_FIELD = 1007
    UNSUPPORTED_RECIPIENT_TYPE = 1008
    TEXT_TOO_LONG = 1009
    SENDER_NOT_ALLOWED = 1010
    INVALID_TIMEOUT = 1011
    NOT_SENT = 1012  # the engine refused the message (see descr)


# (code, HTTP status, meaning).  Every error is answered with HTTP 200 except a
# server fault (500): the request may be repeated with the same ids.
ERROR_CODES = [
    (
        Code.BAD_REQUEST,
        "200",
        "Неверный запрос: не JSON (не XML), неверный тип поля, неверная дата "
        "или часовой пояс.",
    ),
    (
        Code.UNAUTHORIZED,
        "200",
        "Нет токена X-Token (или логина и пароля протокола), токен неизвестен "
        "или отозван, неверный логин или пароль, запрос с IP-адреса, которого "
        "нет в списке.",
    ),
    (Code.INSUFFICIENT_FUNDS, "200", "Недостаточно средств."),
    (
        Code.FORBIDDEN,
        "200",
        "Токен другой области (не «Рассылка сообщений») или аккаунт заблокирован.",
    ),
    (
        Code.NOT_FOUND,
        "200",
        "Сообщение с таким id или группа контактов не найдены.",
    ),
    (Code.METHOD_NOT_ALLOWED, "200", "Используйте POST."),
    (
        Code.TOO_LARGE,
        "200",
        "Тело запроса больше 5 МБ или сообщений больше допустимого.",
    ),
    (
        Code.RATE_LIMITED,
        "200",
        "Превышен лимит запросов; см. заголовок Retry-After.",
    ),
    (
        Code.SERVER_ERROR,
        "500",
        "Внутренняя ошибка; запрос можно повторить с теми же id.",
    ),
    (
        Code.NOT_AVAILABLE,
        "200",
        "Возможность пока недоступна.",
    ),
    (Code.INVALID_RECIPIENT, "200", "Неверный номер получателя."),
    (Code.EMPTY_TEXT, "200", "Пустой текст."),
    (
        Code.DUPLICATE_RECIPIENT,
        "200",
        "Повторный номер в запросе (без duplicateRecipientsAllowed).",
    ),
    (Code.STOP_LIST, "200", "Номер в стоп-листе или отписался от отправителя."),
    (
        Code.OPERATOR_NOT_ALLOWED,
        "200",
        "Оператор исключён opsosAllowed/opsosDisallowed.",
    ),
    (Code.INVALID_FIELD, "200", "Неверный тип поля сообщения."),
    (
        Code.UNSUPPORTED_RECIPIENT_TYPE,
        "200",
        "recipientType не «recipient» и не «group».",
    ),
    (Code.TEXT_TOO_LONG, "200", "Текст длиннее 2000 символов."),
    (Code.SENDER_NOT_ALLOWED, "200", "Имя отправителя не одобрено для аккаунта."),
    (Code.INVALID_TIMEOUT, "200", "timeout вне 60–43200 секунд."),
    (Code.NOT_SENT, "200", "Сообщение не отправлено (причина в descr)."),
]


class CompatError(Exception):
    """A request-level error: nothing was sent.  Answered with HTTP 200 (the
    code is in the body); ``retry_after`` (seconds) for the rate limit."""

    def __init__(self, code: int, descr: str, *, retry_after: int | None = None):
        super().__init__(descr)
        self.code = code
        self.descr = descr
        self.retry_after = retry_after

    def body(self) -> dict:
        return {"success": False, "error": {"code": self.code, "descr": self.descr}}


MAX_TEXT = 2000
MAX_ID = 64
MAX_TAGS = 20
MIN_TTL, MAX_TTL = 60, 12 * 3600

# Operator names clients pass in opsosAllowed/opsosDisallowed → our brands
# (contacts.phones.lookup(...).operator).
OPERATOR_ALIASES = {
    "mts": "МТС",
    "мтс": "МТС",
    "beeline": "Билайн",
    "билайн": "Билайн",
    "vimpelcom": "Билайн",
    "megafon": "МегаФон",
    "мегафон": "МегаФон",
    "tele2": "Tele2",
    "теле2": "Tele2",
    "t2": "Tele2",
    "yota": "Yota",
    "йота": "Yota",
    "motiv": "Мотив",
    "мотив": "Мотив",
    "tinkoff": "Т-Мобайл",
    "t-mobile": "Т-Мобайл",
    "sber": "СберМобайл",
    "sbermobile": "СберМобайл",
}


def operator_key(name: str) -> str:
    raw = " ".join(str(name).split()).strip()
    return OPERATOR_ALIASES.get(raw.lower(), raw).lower()


# --- request parsing --------------------------------------------------------------
@dataclass
class Item:
    index: int
    client_id: str | None  # the client's id, or ours (``given_id`` False)
    raw_id: object
    given_id: bool = False
    recipient: str = ""
    text: str = ""
    sender: str = ""
    ttl: int | None = None
    shorten: bool = False
    error: tuple[int, str] | None = None
    phone: str = ""
    country: str = ""
    operator: str = ""
    region: str = ""
    tz: str = ""
    result: dict | None = None
    group_id: int | None = None  # recipientType "group": a contact group
    key: str = ""  # replay_key of a client id (empty for ours)
    same_as: "Item | None" = None  # an earlier item of the request it replays


@dataclass
class SendRequest:
    items: list[Item]
    validate: bool = False
    tags: list[str] = field(default_factory=list)
    send_at: datetime | None = None
    allow_duplicates: bool = False
    opsos_allowed: set[str] = field(default_factory=set)
    opsos_disallowed: set[str] = field(default_factory=set)
    transliterate: bool = False
    options: dict = field(default_factory=dict)
    description: str = "JSON API v1.0"  # the campaigns' description
    # ``schemeId``: run this scenario for the recipients (``scenarios``).
    scheme_id: int | None = None


def _bool(data: dict, key: str) -> bool:
    value = data.get(key, False)
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise CompatError(Code.BAD_REQUEST, f"Поле «{key}» должно быть true или false.")


def _str_list(data: dict, key: str, limit: int = 100) -> list[str]:
    value = data.get(key)
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise CompatError(Code.BAD_REQUEST, f"Поле «{key}» должно быть списком строк.")
    if len(value) > limit:
        raise CompatError(Code.BAD_REQUEST, f"Поле «{key}»: не более {limit} значений.")
    if any("\x00" in str(v) for v in value):
        raise CompatError(Code.BAD_REQUEST, NUL_MESSAGE % key)
    return [str(v).strip() for v in value if str(v).strip()]


_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def parse_zone(raw) -> dt_timezone | zoneinfo.ZoneInfo:
    if raw in (None, ""):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if isinstance(raw, int | float) and not isinstance(raw, bool) and -12 <= raw <= 14:
        return dt_timezone(timedelta(hours=float(raw)))
    if isinstance(raw, str):
        match = _OFFSET.match(raw.strip())
        if match:
            sign, hours, minutes = match.groups()
            delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
            if delta <= timedelta(hours=14):
                return dt_timezone(delta if sign == "+" else -delta)
        try:
            return zoneinfo.ZoneInfo(raw.strip())
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    raise CompatError(
        Code.BAD_REQUEST,
        "Поле «timeZone»: неизвестный часовой пояс "
        "(например, «Europe/Moscow» или «+03:00»).",
    )


def parse_start(raw, zone_raw, now: datetime) -> datetime | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise CompatError(
            Code.BAD_REQUEST,
            "Поле «startDateTime» должно быть строкой «ГГГГ-ММ-ДД ЧЧ:ММ:СС».",
        )
    try:
        naive = datetime.strptime(raw.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        try:
            naive = datetime.strptime(raw.strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            raise CompatError(
                Code.BAD_REQUEST,
                "Поле «startDateTime»: неверная дата, ожидается «ГГГГ-ММ-ДД ЧЧ:ММ:СС».",
            ) from None
    at = naive.replace(tzinfo=parse_zone(zone_raw))
    if at - now > timedelta(days=365):
        raise CompatError(
            Code.BAD_REQUEST,
            "Поле «startDateTime»: отправку можно отложить не более чем на год.",
        )
    # A time in the past means "now", as a client whose clock lags expects.
    return at if at > now else None


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_time_range(raw) -> dict | None:
    """``"09:00-21:00"`` or ``{"from"|"start": "09:00", "to"|"end": "21:00",
    "weekdays": [1..7]}`` → the engine's window option."""
    if raw in (None, "", {}):
        return None
    if isinstance(raw, str) and "-" in raw:
        start, _, end = raw.partition("-")
        raw = {"from": start.strip(), "to": end.strip()}
    if not isinstance(raw, dict):
        raise CompatError(
            Code.BAD_REQUEST, "Поле «timeRange»: ожидается «ЧЧ:ММ-ЧЧ:ММ»."
        )
    start = str(raw.get("from", raw.get("start", "00:00")))
    end = str(raw.get("to", raw.get("end", "23:59")))
    if not (_HHMM.match(start) and _HHMM.match(end)) or start == end:
        raise CompatError(
            Code.BAD_REQUEST, "Поле «timeRange»: ожидается «ЧЧ:ММ-ЧЧ:ММ»."
        )
    window = {"from": start, "to": end}
    weekdays = raw.get("weekdays")
    if weekdays not in (None, []):
        if not isinstance(weekdays, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7
            for d in weekdays
        ):
            raise CompatError(
                Code.BAD_REQUEST, "Поле «timeRange.weekdays»: числа от 1 до 7."
            )
        window["weekdays"] = sorted(set(weekdays))
    return window


def parse_smooth(raw) -> dict | None:
    """``{"portions": 2..1000, "interval": minutes}`` → the engine's option."""
    if raw in (None, "", {}, False):
        return None
    if not isinstance(raw, dict):
        raise CompatError(
            Code.BAD_REQUEST,
            'Поле «smooth»: ожидается {"portions": N, "interval": минут}.',
        )
    try:
        portions = int(raw.get("portions", 0))
        interval = int(
            raw.get(
                "interval", raw.get("intervalMinutes", raw.get("interval_minutes", 0))
            )
        )
    except (TypeError, ValueError):
        raise CompatError(
            Code.BAD_REQUEST, "Поле «smooth»: числа порций и интервала."
        ) from None
    if not 2 <= portions <= 1000 or not 1 <= interval <= 24 * 60:
        raise CompatError(
            Code.BAD_REQUEST,
            "Поле «smooth»: от 2 до 1000 порций, интервал от 1 до 1440 минут.",
        )
    return {"portions": portions, "interval_minutes": interval}


# PostgreSQL cannot store U+0000 in text; Django's forms and DRF refuse it too.
NUL_MESSAGE = "Поле «%s» содержит недопустимый символ U+0000."


def replay_key(client_id: str, recipient: str, text: str) -> str:
    """What makes a repeated message "the same": the client's id, the
    recipient (E.164 phone, or ``group:<id>``) and the submitted text.  Stored
    as ``Message.client_key`` (unique per account), so a true replay — also two
    racing requests — is sent once, and a reused id with other content is a new
    message."""
    raw = "\x1f".join((client_id, recipient, text)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def new_client_id() -> str:
    """Our id for a message the client sent without one: answered as ``id``
    and stored as ``client_ref``, so ``sms/status`` finds it like a client's."""
    return uuid.uuid4().hex


def _client_id(raw) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError("«id» должен быть строкой или числом.")
    value = str(raw).strip()
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE % "id")
    if len(value) > MAX_ID:
        raise ValueError(f"«id» длиннее {MAX_ID} символов.")
    return value or None


def parse_send(data, *, now: datetime) -> SendRequest:
    if not isinstance(data, dict):
        raise CompatError(
            Code.BAD_REQUEST,
            "Тело запроса должно быть JSON-объектом с полем «messages».",
        )
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise CompatError(
            Code.BAD_REQUEST, "Поле «messages» должно быть непустым списком."
        )
    cap = settings.COMPAT_MAX_MESSAGES
    if len(messages) > cap:
        raise CompatError(
            Code.TOO_LARGE,
            f"Слишком много сообщений в одном запросе: "
            f"{len(messages)}, допускается не более {cap}. Разбейте отправку "
            f"на несколько запросов.",
        )
    scheme_id = data.get("schemeId")
    if scheme_id in ("", 0):
        scheme_id = None
    if scheme_id is not None:
        if isinstance(scheme_id, bool) or not str(scheme_id).strip().isdigit():
            raise CompatError(
                Code.BAD_REQUEST, "Поле «schemeId» должно быть id сценария (число)."
            )
        scheme_id = int(str(scheme_id).strip())
    channel = data.get("channel")
    if channel not in (None, "") and (
        isinstance(channel, bool) or not isinstance(channel, int)
    ):
        raise CompatError(Code.BAD_REQUEST, "Поле «channel» должно быть целым числом.")
    tags = _str_list(data, "tags", MAX_TAGS)
    if any(len(t) > 50 for t in tags):
        raise CompatError(Code.BAD_REQUEST, "Поле «tags»: тэг длиннее 50 символов.")
    req = SendRequest(
        items=[],
        validate=_bool(data, "validate"),
        tags=tags,
        send_at=parse_start(data.get("startDateTime"), data.get("timeZone"), now),
        allow_duplicates=_bool(data, "duplicateRecipientsAllowed"),
        opsos_allowed={operator_key(o) for o in _str_list(data, "opsosAllowed")},
        opsos_disallowed={operator_key(o) for o in _str_list(data, "opsosDisallowed")},
        transliterate=_bool(data, "transliterate"),
        scheme_id=scheme_id,
    )
    window = parse_time_range(data.get("timeRange"))
    smooth = parse_smooth(data.get("smooth"))
    if window:
        req.options["window"] = window
    if smooth:
        req.options["smooth"] = smooth
    if req.transliterate:
        req.options["transliterate"] = True
    if req.allow_duplicates:
        req.options["allow_duplicates"] = True
    if channel not in (None, ""):
        req.options["route_channel"] = channel
    for index, raw in enumerate(messages):
        item = _parse_item(index, raw, transliterate=req.transliterate)
        if item.client_id is None and item.raw_id in (None, ""):
            item.client_id = new_client_id()
        req.items.append(item)
    return req


def _parse_item(index: int, raw, *, transliterate: bool) -> Item:
    if not isinstance(raw, dict):
        item = Item(index, None, None)
        item.error = (Code.INVALID_FIELD, "Сообщение должно быть JSON-объектом.")
        return item
    raw_id = raw.get("id")
    try:
        client_id = _client_id(raw_id)
    except ValueError as exc:
        item = Item(index, None, raw_id if isinstance(raw_id, str | int) else None)
        item.error = (Code.INVALID_FIELD, str(exc))
        return item
    item = Item(index, client_id, raw_id, given_id=client_id is not None)
    recipient_type = raw.get("recipientType", "recipient") or "recipient"
    if recipient_type not in ("recipient", "group"):
        item.error = (
            Code.UNSUPPORTED_RECIPIENT_TYPE,
            f"recipientType «{recipient_type}» не поддерживается: укажите "
            "«recipient» (номер телефона) или «group» (id группы контактов).",
        )
        return item
    recipient, text = raw.get("recipient"), raw.get("text")
    # "sender" is what a C# client sends for "source".
    sender = raw.get("source")
    if sender in (None, ""):
        sender = raw.get("sender")
    if recipient_type == "group":
        if isinstance(recipient, bool) or not str(recipient).strip().isdigit():
            item.error = (
                Code.INVALID_RECIPIENT,
                "Для recipientType «group» поле "
                "«recipient» — id группы контактов (число).",
            )
            return item
        item.group_id = int(str(recipient).strip())
    elif isinstance(recipient, bool) or not isinstance(recipient, str | int):
        item.error = (
            Code.INVALID_RECIPIENT,
            "Поле «recipient» должно быть номером телефона.",
        )
        return item
    if not isinstance(text, str):
        item.error = (
            Code.EMPTY_TEXT if text in (None, "") else Code.INVALID_FIELD,
            "Поле «text» должно быть непустой строкой.",
        )
        return item
    if not text.strip():
        item.error = (Code.EMPTY_TEXT, "Введите текст сообщения.")
        return item
    if "\x00" in text:
        item.error = (Code.INVALID_FIELD, NUL_MESSAGE % "text")
        return item
    if len(text) > MAX_TEXT:
        item.error = (Code.TEXT_TOO_LONG, f"Текст длиннее {MAX_TEXT} символов.")
        return item
    if sender not in (None, "") and not isinstance(sender, str):
        item.error = (Code.INVALID_FIELD, "Поле «source» должно быть строкой.")
        return item
    if sender and "\x00" in sender:
        item.error = (Code.INVALID_FIELD, NUL_MESSAGE % "source")
        return item
    timeout = raw.get("timeout")
    if timeout not in (None, "", 0):
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | str)
            or not str(timeout).isdigit()
            or not MIN_TTL <= int(timeout) <= MAX_TTL
        ):
            item.error = (
                Code.INVALID_TIMEOUT,
                f"Поле «timeout»: время жизни от {MIN_TTL} до {MAX_TTL} секунд.",
            )
            return item
        item.ttl = int(timeout)
    try:
        item.shorten = _bool(raw, "shortenUrl")
    except CompatError as exc:
        item.error = (Code.INVALID_FIELD, exc.descr)
        return item
    item.recipient = str(recipient)
    item.text = transliterate_text(text) if transliterate else text
    item.sender = (sender or "").strip()
    return item


# --- sending ----------------------------------------------------------------------
def _error(item: Item, code: int, descr: str) -> dict:
    return {
        "id": item.raw_id if item.client_id is None else item.client_id,
        "success": False,
        "error": {"code": code, "descr": descr},
    }


def _ok(
    item: Item,
    *,
    message_id=None,
    status=None,
    price=None,
    parts=None,
    campaign_id=None,
    repeated=False,
) -> dict:
    result = {
        "id": item.client_id,
        "success": True,
        "recipient": item.phone,
        "smscId": message_id,
        "campaignId": campaign_id,
        "status": status,
        "price": price,
        "parts": parts,
    }
    if repeated:
        result["repeated"] = True
    return result


def _from_message(item: Item, row: dict, *, repeated: bool) -> dict:
    item.phone = row["phone"]
    return _ok(
        item,
        message_id=row["id"],
        campaign_id=row["campaign_id"],
        status=status_word(row["status"], row.get("campaign__status")),
        price=float(row["price"]),
        parts=row["parts"],
        repeated=repeated,
    )


MESSAGE_FIELDS = (
    "id",
    "client_ref",
    "client_key",
    "phone",
    "status",
    "price",
    "parts",
    "campaign_id",
    "campaign__status",
)


def _existing(account_id: int, keys: list[str]) -> dict[str, dict]:
    """The account's messages already sent with these replay keys."""
    found: dict[str, dict] = {}
    for i in range(0, len(keys), 5000):
        chunk = keys[i : i + 5000]
        for row in Message.objects.filter(
            account_id=account_id, client_key__any=chunk
        ).values(*MESSAGE_FIELDS):
            found[row["client_key"]] = row
    return found


# The latest message of the account carrying each id: one index probe per id
# (``message_client_ref_idx``), however many messages share an id.
_LATEST_SQL = """
SELECT r.ref, m.id, m.phone, m.status, m.price, m.parts, m.campaign_id, c.status
FROM unnest(%s::text[]) AS r(ref)
CROSS JOIN LATERAL (
    SELECT id, phone, status, price, parts, campaign_id FROM messaging_message
    WHERE account_id = %s AND client_ref = r.ref AND client_ref <> ''
    ORDER BY id DESC LIMIT 1
) m
JOIN messaging_campaign c ON c.id = m.campaign_id
"""


def latest_by_id(account_id: int, ids: list[str]) -> dict[str, dict]:
    """id → the latest of the account's messages sent with that id (a reused
    id names its latest message)."""
    found: dict[str, dict] = {}
    columns = ("id", "phone", "status", "price", "parts", "campaign_id")
    for i in range(0, len(ids), 5000):
        chunk = ids[i : i + 5000]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_LATEST_SQL, [chunk, account_id])
                for ref, *values, campaign_status in cursor.fetchall():
                    row = dict(zip(columns, values, strict=True))
                    row["campaign__status"] = campaign_status
                    found[ref] = row
            continue
        last = dict(
            Message.objects.filter(account_id=account_id, client_ref__any=chunk)
            .values("client_ref")
            .annotate(last=Max("id"))
            .values_list("client_ref", "last")
        )
        for row in Message.objects.filter(pk__any=list(last.values())).values(
            *MESSAGE_FIELDS
        ):
            found[row["client_ref"]] = row
    return found


def _screen(account, req: SendRequest) -> list[Item]:
    """Mark per-message errors (invalid phone, duplicates, operators, stop-list)
    and answer replays.  Returns the items to send."""
    seen_keys: dict[str, Item] = {}
    seen_phones: set[tuple[str, str]] = set()
    live: list[Item] = []
    for item in req.items:
        if item.error:
            continue
        if item.group_id is not None:
            continue  # whole groups are launched on their own (_group_send)
        try:
            item.phone = normalize_phone(item.recipient)
        except InvalidPhone as exc:
            item.error = (
                Code.INVALID_RECIPIENT,
                f"Неверный номер «{item.recipient}»: {exc.reason}.",
            )
            continue
        if item.given_id:
            item.key = replay_key(item.client_id, item.phone, item.text)
            first = seen_keys.get(item.key)
            if first is not None:
                item.same_as = first  # the same message twice in one request
                continue
            seen_keys[item.key] = item
        live.append(item)
    known = _existing(account.pk, list(seen_keys)) if seen_keys else {}
    fresh: list[Item] = []
    for item in live:
        row = known.get(item.key) if item.key else None
        if row is not None:
            item.result = _from_message(item, row, repeated=True)
            continue
        key = (item.phone, item.sender)
        if key in seen_phones and not req.allow_duplicates:
            item.error = (
                Code.DUPLICATE_RECIPIENT,
                "Повторный номер в запросе: сообщение "
                "не отправлено (разрешите duplicateRecipientsAllowed).",
            )
            continue
        seen_phones.add(key)
        info = lookup(item.phone)
        item.country, item.operator = info.country, info.operator
        item.region, item.tz = info.region, info.timezone
        op = (info.operator or "").lower()
        if (req.opsos_allowed and op not in req.opsos_allowed) or (
            req.opsos_disallowed and op in req.opsos_disallowed
        ):
            item.error = (
                Code.OPERATOR_NOT_ALLOWED,
                f"Оператор номера "
                f"«{info.operator or 'неизвестен'}» исключён условиями "
                "opsosAllowed/opsosDisallowed.",
            )
            continue
        fresh.append(item)
    # The stop-list is the planner's: a quote answers it per message, a send
    # drops such recipients and names the reason afterwards (no extra query on
    # the hot path).
    return fresh


STOP_LIST_DESCR = "Номер в стоп-листе или отписался от рассылок этого отправителя."


def _blocked(account, items: list[Item]) -> set[str]:
    """Phones of ``items`` the stop-list or an unsubscribe forbids; marks those
    items with the STOP_LIST error."""
    by_sender: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_sender[item.sender or registry.get_channel(CHANNEL).default_sender()].append(
            item
        )
    blocked_all: set[str] = set()
    for sender, group in by_sender.items():
        blocked = blocked_phones(
            account_id=account.pk,
            channel=CHANNEL,
            sender=sender,
            phones=[i.phone for i in group],
        )
        for item in group:
            if item.phone in blocked:
                item.error = (Code.STOP_LIST, STOP_LIST_DESCR)
                blocked_all.add(item.phone)
    return blocked_all


def _groups(items: list[Item]) -> dict[tuple, list[Item]]:
    """One campaign per sender and per-message options.  Messages whose links
    are shortened are grouped by text too: the engine renders (and shortens) a
    campaign's text, while a recipient's own text is sent verbatim."""
    groups: dict[tuple, list[Item]] = defaultdict(list)
    for item in items:
        text_key = item.text if item.shorten else None
        groups[(item.sender, item.ttl, item.shorten, text_key)].append(item)
    return groups


def _recipients(items: list[Item], *, own_text: bool = True):
    return [
        Recipient(
            phone=i.phone,
            country=i.country,
            operator=i.operator,
            region=i.region,
            timezone=i.tz,
            text=i.text if own_text else None,
            client_ref=i.client_id or "",
            client_key=i.key,
        )
        for i in items
    ]


def _integrity_errors() -> tuple[type[Exception], ...]:
    # The engine writes messages with PostgreSQL COPY on the raw psycopg cursor,
    # whose errors Django does not wrap.
    try:
        import psycopg

        return (IntegrityError, psycopg.errors.IntegrityError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return (IntegrityError,)


INTEGRITY_ERRORS = _integrity_errors()


def _group_options(req: SendRequest, ttl, shorten) -> dict:
    options = dict(req.options)
    if ttl:
        options["ttl"] = ttl
    if shorten:
        options["shorten_links"] = True
    return options


def _launch_error(exc) -> tuple[int, str]:
    code = getattr(exc, "code", "")
    if code == "insufficient_funds":
        return Code.INSUFFICIENT_FUNDS, exc.message
    if code == "sender_not_allowed":
        return Code.SENDER_NOT_ALLOWED, exc.message
    if code == "blocked":
        return Code.FORBIDDEN, exc.message
    return Code.NOT_SENT, exc.message


# The planner's reasons for leaving a recipient out, as the protocol's codes.
EXCLUDED_CODES = {
    "blocked": (Code.STOP_LIST, STOP_LIST_DESCR),
    "duplicates": (
        Code.DUPLICATE_RECIPIENT,
        "Повторный номер в запросе: сообщение "
        "не отправлено (разрешите duplicateRecipientsAllowed).",
    ),
    "invalid": (Code.INVALID_RECIPIENT, "Неверный номер получателя."),
}


def _validate_group(account, req: SendRequest, key, items: list[Item]) -> Decimal:
    """The planner's quote for a group of messages, answered per message: its
    price and parts, or why it would not be sent."""
    sender, ttl, shorten, _text = key
    try:
        quote = services.campaign_quote(
            account=account,
            channel=CHANNEL,
            text=items[0].text,
            sender=sender,
            recipients=_recipients(items),
            options=_group_options(req, ttl, shorten),
            lines=True,
        )
    except services.LaunchError as exc:
        code, descr = _launch_error(exc)
        for item in items:
            item.error = (code, descr)
        return Decimal("0")
    for item, line in zip(items, quote.lines, strict=True):
        if line.excluded:
            item.error = EXCLUDED_CODES[line.excluded]
        else:
            item.result = _ok(
                item, status="validated", price=float(line.price), parts=line.units
            )
    return quote.total


def _send_group(account, req: SendRequest, key, items: list[Item]) -> None:
    sender, ttl, shorten, shared_text = key
    try:
        campaign = services.campaign_launch(
            account=account,
            channel=CHANNEL,
            text=items[0].text,
            sender=sender,
            recipients=_recipients(items, own_text=shared_text is None),
            options=_group_options(req, ttl, shorten),
            tags=req.tags,
            source=Source.COMPAT,
            send_at=req.send_at,
            description=req.description,
        )
    except services.LaunchError as exc:
        code, descr = _launch_error(exc)
        if exc.code == "no_recipients":
            _blocked(account, items)
        for item in items:
            if not item.error:
                item.error = (code, descr)
        return
    except INTEGRITY_ERRORS:
        # A concurrent replay sent one of these messages first (the unique
        # client_key rolled this campaign back whole): answer those, retry the
        # rest once.
        known = _existing(account.pk, [i.key for i in items if i.key])
        rest = []
        for item in items:
            row = known.get(item.key) if item.key else None
            if row is not None:
                item.result = _from_message(item, row, repeated=True)
            else:
                rest.append(item)
        if rest and len(rest) < len(items):
            _send_group(account, req, key, rest)
        elif rest:
            for item in rest:
                item.error = (
                    Code.NOT_SENT,
                    "Сообщение не отправлено, повторите запрос.",
                )
        return
    # Rows in the order written (the recipients' order); one id may carry
    # several recipients, and one recipient several texts.
    rows: dict[tuple[str, str], list[dict]] = {}
    for row in (
        Message.objects.filter(campaign_id=campaign.pk)
        .order_by("id")
        .values("id", "client_ref", "phone", "status", "price", "parts", "campaign_id")
    ):
        rows.setdefault((row["client_ref"], row["phone"]), []).append(row)
    campaign_status = campaign.status
    dropped: list[Item] = []
    for item in items:
        bucket = rows.get((item.client_id or "", item.phone))
        if bucket:
            row = bucket.pop(0)
            row["campaign__status"] = campaign_status
            item.result = _from_message(item, row, repeated=False)
        elif campaign_status in (Campaign.Status.PREPARING, Campaign.Status.MODERATION):
            # Large campaigns are written by a task after this answer.
            word = (
                "moder" if campaign_status == Campaign.Status.MODERATION else "enqueued"
            )
            item.result = _ok(item, campaign_id=campaign.pk, status=word)
        else:
            dropped.append(item)
    if dropped:
        _blocked(account, dropped)
        for item in dropped:
            if not item.error:
                item.error = (
                    Code.NOT_SENT,
                    "Сообщение исключено при подготовке рассылки.",
                )


def _group_send(account, req: SendRequest, item: Item) -> Decimal:
    """One message addressed to a contact group: its own campaign (prepared by a
    task), idempotent through the campaign's ``client_id``.  Returns the price
    (quoted, or held for a new campaign)."""
    options = _group_options(req, item.ttl, item.shorten)
    sender = item.sender or ""
    try:
        if req.validate:
            quote = services.campaign_quote(
                account=account,
                channel=CHANNEL,
                text=item.text,
                sender=sender,
                group_ids=[item.group_id],
                options=options,
            )
            item.result = {
                "id": item.client_id,
                "success": True,
                "group": item.group_id,
                "status": "validated",
                "recipients": quote.messages,
                "price": float(quote.total),
            }
            return quote.total
        # A reused id with another group or text is another campaign.
        client_id = (
            "compat:" + replay_key(item.client_id, f"group:{item.group_id}", item.text)
            if item.given_id
            else ""
        )
        repeated = (
            bool(client_id)
            and Campaign.objects.filter(account=account, client_id=client_id).exists()
        )
        try:
            campaign = services.campaign_launch(
                account=account,
                channel=CHANNEL,
                text=item.text,
                sender=sender,
                group_ids=[item.group_id],
                options=options,
                tags=req.tags,
                source=Source.COMPAT,
                send_at=req.send_at,
                client_id=client_id,
                description=req.description,
            )
        except INTEGRITY_ERRORS:
            # A concurrent replay created the campaign first (its unique
            # client_id rolled this one back): answer that one.
            campaign = Campaign.objects.get(account=account, client_id=client_id)
            repeated = True
    except services.LaunchError as exc:
        if exc.code == "not_found":
            item.error = (Code.NOT_FOUND, "Группа контактов не найдена.")
        else:
            item.error = _launch_error(exc)
        return Decimal("0")
    word = "moder" if campaign.status == Campaign.Status.MODERATION else "enqueued"
    item.result = {
        "id": item.client_id,
        "success": True,
        "group": item.group_id,
        "campaignId": campaign.pk,
        "status": word,
        "recipients": campaign.recipients
        or (campaign.options or {}).get("audience_estimate"),
        "price": float(campaign.cost),
    }
    if repeated:
        item.result["repeated"] = True
        return Decimal("0")
    return campaign.cost


def compat_send(*, account, data, now: datetime | None = None) -> dict:
    """The whole ``sms/send/text`` call.  Raises ``CompatError`` for request-level
    errors (nothing sent); per-message errors are in the result."""
    now = now or timezone.now()
    req = parse_send(data, now=now)
    return send_parsed(account=account, req=req)


def send_parsed(*, account, req: SendRequest) -> dict:
    """``compat_send`` of a request already parsed (the XML API and the legacy
    calls build theirs from their own wire formats)."""
    if req.scheme_id is not None:
        return _send_scheme(account, req)
    to_send = _screen(account, req)
    total = Decimal("0")
    for item in req.items:
        if item.group_id is not None and not item.error:
            total += _group_send(account, req, item)
    for key, items in _groups(to_send).items():
        if req.validate:
            total += _validate_group(account, req, key, items)
        else:
            _send_group(account, req, key, items)
    for item in req.items:
        first = item.same_as
        if first is None:
            continue
        if first.error:
            item.error = first.error
        else:
            item.result = {**first.result, "id": item.client_id, "repeated": True}
    messages = []
    for item in req.items:
        if item.error:
            messages.append(_error(item, *item.error))
        else:
            messages.append(item.result)
            if (
                not req.validate
                and item.group_id is None
                and item.result.get("price") is not None
                and not item.result.get("repeated")
            ):
                total += Decimal(str(item.result["price"]))
    accepted = sum(1 for m in messages if m["success"])
    price = {"sum": float(total.quantize(Decimal("0.01"))), "currency": "RUB"}
    if req.validate:
        available = account.balance + account.credit_limit
        price["enough"] = total <= available
    answer = {
        "success": accepted > 0,
        "result": {
            "messages": messages,
            "price": price,
            "validate": req.validate,
            "accepted": accepted,
            "rejected": len(messages) - accepted,
            "startDateTime": timezone.localtime(req.send_at).strftime(
                "%Y-%m-%d %H:%M:%S"
            )
            if req.send_at
            else None,
        },
    }
    if not accepted:
        # Clients that read only success and error.descr must not report
        # "sent": the first message's reason is the request's.
        answer["error"] = next(m["error"] for m in messages if "error" in m)
    return answer


def compat_status(*, account, data) -> dict:
    """Statuses of the account's messages by id (the client's, or ours from a
    send without one).  An id used for several messages names the latest."""
    if isinstance(data, dict):
        data = data.get("messages", data.get("ids"))
    if not isinstance(data, list) or not data:
        raise CompatError(
            Code.BAD_REQUEST,
            "Тело запроса должно быть непустым JSON-списком id сообщений.",
        )
    cap = settings.COMPAT_MAX_MESSAGES
    if len(data) > cap:
        raise CompatError(
            Code.TOO_LARGE,
            f"Слишком много id в одном запросе: {len(data)}, "
            f"допускается не более {cap}.",
        )
    ids: list[str] = []
    for raw in data:
        if isinstance(raw, dict):
            raw = raw.get("id")
        try:
            value = _client_id(raw)
        except ValueError:
            value = None
        if value is None:
            raise CompatError(
                Code.BAD_REQUEST,
                "Каждый id должен быть непустой строкой "
                f"или числом не длиннее {MAX_ID} символов.",
            )
        ids.append(value)
    known = latest_by_id(account.pk, sorted(set(ids)))
    result = []
    for value in ids:
        row = known.get(value)
        if row is None:
            result.append(
                {
                    "id": value,
                    "status": "unknown",
                    "error": {
                        "code": Code.NOT_FOUND,
                        "descr": "Сообщение с таким id не найдено.",
                    },
                }
            )
        else:
            result.append(
                {
                    "id": value,
                    "status": status_word(row["status"], row["campaign__status"]),
                    "smscId": row["id"],
                    "recipient": row["phone"],
                    "price": float(row["price"]),
                    "parts": row["parts"],
                }
            )
    return {"success": True, "result": result}


# --- CallPassword (POST /json/v1.0/callpassword/send) ------------------------------

CALLPASSWORD_ERRORS = {
    "invalid_recipient": Code.INVALID_RECIPIENT,
    "stop_list": Code.STOP_LIST,
    "no_recipients": Code.STOP_LIST,
    "rate_limited": Code.RATE_LIMITED,
    "insufficient_funds": Code.INSUFFICIENT_FUNDS,
    "blocked": Code.FORBIDDEN,
    "not_available": Code.NOT_AVAILABLE,
}


def compat_callpassword(*, account, data) -> dict:
    """``{"recipient", "id"?, "validate"?}`` → ``{"id", "code"}``: a call from
    a pool number whose last four digits are the code (``voice.services``).
    ``validate`` checks and prices without a call or a charge; a repeated
    ``id`` answers the first result without a second call or charge."""
    if not isinstance(data, dict):
        raise CompatError(
            Code.BAD_REQUEST,
            "Тело запроса должно быть JSON-объектом с полем «recipient».",
        )
    recipient = data.get("recipient")
    if isinstance(recipient, int) and not isinstance(recipient, bool):
        recipient = str(recipient)
    if not isinstance(recipient, str) or not recipient.strip():
        raise CompatError(Code.INVALID_RECIPIENT, "Укажите номер в поле «recipient».")
    try:
        client_id = _client_id(data.get("id")) or ""
    except ValueError as exc:
        raise CompatError(Code.BAD_REQUEST, str(exc)) from None
    validate = _bool(data, "validate")
    try:
        result = callpassword_send(
            account=account,
            recipient=recipient,
            client_id=client_id,
            validate=validate,
            source=Source.COMPAT,
        )
    except VoiceError as exc:
        raise CompatError(
            CALLPASSWORD_ERRORS.get(exc.code, Code.NOT_SENT), exc.message
        ) from None
    body = {"id": result.id, "code": result.code, "price": float(result.price)}
    if validate:
        body["validate"] = True
    return {"success": True, "result": body}


# --- schemeId: a scenario for the request's recipients ----------------------------


def _send_scheme(account, req: SendRequest) -> dict:
    """``schemeId``: the account's scenario runs for the request's numbers and
    groups (``scenarios.services.run_launch``: every step through the one
    pipeline).  Each message's ``text`` is that recipient's text in every
    step; its ``id`` finds the recipient's latest step in ``sms/status``.
    Nothing is sent when the scenario is not found or cannot be paid."""
    try:
        scenario = scenario_selectors.scenario_get(
            account_id=account.pk, pk=req.scheme_id
        )
    except Scenario.DoesNotExist:
        raise CompatError(
            Code.NOT_FOUND, f"Сценарий schemeId={req.scheme_id} не найден."
        ) from None
    direct: dict[str, dict] = {}
    groups: list[int] = []
    for item in req.items:
        if item.error:
            continue
        if item.group_id is not None:
            groups.append(item.group_id)
            continue
        try:
            item.phone = normalize_phone(item.recipient)
        except InvalidPhone as exc:
            item.error = (
                Code.INVALID_RECIPIENT,
                f"Неверный номер «{item.recipient}»: {exc.reason}.",
            )
            continue
        if item.phone in direct and not req.allow_duplicates:
            item.error = (Code.DUPLICATE_RECIPIENT, "Повторный номер в запросе.")
            continue
        direct.setdefault(
            item.phone,
            {"phone": item.phone, "text": item.text, "client_ref": item.client_id},
        )
    ok = [i for i in req.items if not i.error]
    if ok:
        key = hashlib.sha256(
            "\x1f".join(
                [str(req.scheme_id)] + [f"{i.client_id}:{i.recipient}" for i in ok]
            ).encode()
        ).hexdigest()[:32]
        try:
            if req.validate:
                estimate = scenario_services.estimate(
                    account=account,
                    steps=chain_clean(account, scenario.steps),
                    group_ids=groups,
                    phones=list(direct),
                )
                run, total = None, estimate.worst
            else:
                run = scenario_services.run_launch(
                    account=account,
                    scenario=scenario,
                    group_ids=groups,
                    recipients=list(direct.values()),
                    send_at=req.send_at,
                    source=Source.COMPAT,
                    client_id=f"compat:{key}" if all(i.given_id for i in ok) else "",
                )
                total = run.worst_cost
        except BlockError as exc:
            raise CompatError(Code.NOT_SENT, exc.as_text()) from exc
        except LaunchError as exc:
            code = (
                Code.INSUFFICIENT_FUNDS
                if exc.code == "insufficient_funds"
                else Code.NOT_SENT
            )
            raise CompatError(code, exc.message) from exc
    else:
        run, total = None, Decimal("0")
    messages = []
    for item in req.items:
        if item.error:
            messages.append(_error(item, *item.error))
            continue
        result = {"id": item.client_id, "success": True, "schemeId": req.scheme_id}
        if item.phone:
            result["recipient"] = item.phone
        if run is not None:
            result["runId"] = run.pk
        messages.append(result)
    accepted = sum(1 for m in messages if m["success"])
    answer = {
        "success": accepted > 0,
        "result": {
            "messages": messages,
            # The most the run may cost (every step to everyone).
            "price": {"sum": float(total), "currency": "RUB"},
            "validate": req.validate,
            "accepted": accepted,
            "rejected": len(messages) - accepted,
            "schemeId": req.scheme_id,
            "runId": run.pk if run is not None else None,
        },
    }
    if not accepted:
        answer["error"] = messages[0]["error"]
    return answer
