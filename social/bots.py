"""The messengers' bots (manual section 13): what their webhooks deliver, how
each is verified, and the gateways that send our messages out.

Incoming, each in the messenger's own format and scheme:

* Telegram — a Bot API ``Update`` (``message.chat.id``, ``message.text``);
  the header ``X-Telegram-Bot-Api-Secret-Token`` must equal the
  ``secret_token`` given to ``setWebhook`` (``TELEGRAM_WEBHOOK_SECRET``).
* Viber — a bot callback (``event: message``, ``sender.id``,
  ``message.text``); ``X-Viber-Content-Signature`` is the HMAC-SHA256 of the
  raw body with the bot's auth token (``VIBER_BOT_TOKEN``).
* VK — a Callback API event: ``confirmation`` is answered with the group's
  confirmation string (``VK_CONFIRMATION_CODE``), ``message_new`` carries
  ``object.message.from_id`` / ``text``; every event's ``secret`` must equal
  ``VK_CALLBACK_SECRET``.
* OK — a Bot API webhook (``webhookType: MESSAGE_CREATED``,
  ``sender.user_id``, ``recipient.chat_id``, ``message.text``).  OK does not
  sign its calls: the address registered with ``/me/subscribe`` carries our
  secret (``OK_WEBHOOK_SECRET``) as its last path segment.

Outgoing: ``gateway(messenger)`` — the class in
``settings.MESSENGER_GATEWAYS[messenger]`` (dotted path; the fake one by
default; ``TelegramBotGateway``, ``ViberBotGateway``, ``VkBotGateway``,
``OkBotGateway`` for the real bot APIs)."""

import hashlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class BotError(Exception):
    """The messenger's API refused or could not be reached (retried)."""


class Forged(Exception):
    """A webhook call that does not carry the messenger's secret/signature."""


@dataclass(frozen=True)
class Incoming:
    """A text someone wrote to our bot: who (the chat to answer) and what."""

    messenger: str
    chat_id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Parsed:
    """A verified webhook call: the texts it carried and, for VK's
    confirmation, what to answer instead of "ok"."""

    messages: tuple[Incoming, ...] = ()
    answer: str | None = None


def _secret(name: str) -> str:
    return str(getattr(settings, name, "") or "")


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(
        (given or "").encode(), expected.encode()
    )


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def parse_telegram(headers, body: bytes) -> Parsed:
    if not _same(
        headers.get("X-Telegram-Bot-Api-Secret-Token", ""),
        _secret("TELEGRAM_WEBHOOK_SECRET"),
    ):
        raise Forged
    update = _json(body)
    message = update.get("message") or update.get("edited_message") or {}
    chat = message.get("chat") or {}
    text = message.get("text")
    if not isinstance(text, str) or chat.get("id") is None:
        return Parsed()
    sender = message.get("from") or {}
    title = sender.get("username") or " ".join(
        p for p in (sender.get("first_name"), sender.get("last_name")) if p
    )
    return Parsed((Incoming("telegram", str(chat["id"]), text, str(title)[:200]),))


def viber_signature(body: bytes, token: str) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def parse_viber(headers, body: bytes) -> Parsed:
    token = _secret("VIBER_BOT_TOKEN")
    given = headers.get("X-Viber-Content-Signature", "")
    if not token or not _same(given, viber_signature(body, token)):
        raise Forged
    event = _json(body)
    if event.get("event") != "message":
        return Parsed()  # webhook, subscribed, delivered, seen…: nothing to do
    message = event.get("message") or {}
    sender = event.get("sender") or {}
    if message.get("type") != "text" or not sender.get("id"):
        return Parsed()
    return Parsed(
        (
            Incoming(
                "viber",
                str(sender["id"]),
                str(message.get("text") or ""),
                str(sender.get("name") or "")[:200],
            ),
        )
    )


def parse_vk(headers, body: bytes) -> Parsed:
    event = _json(body)
    if not _same(str(event.get("secret") or ""), _secret("VK_CALLBACK_SECRET")):
        raise Forged
    if event.get("type") == "confirmation":
        return Parsed(answer=_secret("VK_CONFIRMATION_CODE"))
    if event.get("type") != "message_new":
        return Parsed()
    obj = event.get("object") or {}
    # Callback API 5.103+: {"message": {...}, "client_info": {...}}; older: the
    # message itself.
    message = obj.get("message") if isinstance(obj.get("message"), dict) else obj
    peer = message.get("peer_id") or message.get("from_id")
    text = message.get("text")
    if not peer or not isinstance(text, str):
        return Parsed()
    return Parsed((Incoming("vk", str(peer), text, f"id{message.get('from_id')}"),))


def parse_ok(headers, body: bytes, *, path_secret: str = "") -> Parsed:
    if not _same(path_secret, _secret("OK_WEBHOOK_SECRET")):
        raise Forged
    event = _json(body)
    if event.get("webhookType") != "MESSAGE_CREATED":
        return Parsed()
    chat = (event.get("recipient") or {}).get("chat_id")
    sender = event.get("sender") or {}
    text = (event.get("message") or {}).get("text")
    if not chat or not isinstance(text, str):
        return Parsed()
    return Parsed((Incoming("ok", str(chat), text, str(sender.get("name") or "")),))


PARSERS = {
    "telegram": parse_telegram,
    "viber": parse_viber,
    "vk": parse_vk,
    "ok": parse_ok,
}


# --- outgoing ----------------------------------------------------------------------


class FakeMessengerGateway:
    """Keeps what it would send (``outbox``, shared by every instance): the
    default, and what tests read."""

    outbox: list[tuple[str, str, str]] = []
    # A long-running worker keeps only the latest (it is a log, not a store).
    KEEP = 1000
    _lock = threading.Lock()

    def __init__(self, messenger: str):
        self.messenger = messenger

    def send(self, chat_id: str, text: str) -> None:
        cls = FakeMessengerGateway
        with cls._lock:
            cls.outbox.append((self.messenger, chat_id, text))
            if len(cls.outbox) > cls.KEEP:
                del cls.outbox[: -cls.KEEP]
        log.info("%s bot → %s: %s", self.messenger, chat_id, text[:80])


class TelegramBotGateway:
    """The Telegram Bot API's ``sendMessage`` with the bot's token
    (``TELEGRAM_BOT_TOKEN``) at ``TELEGRAM_API_URL``
    (https://api.telegram.org unless a test or a proxy says otherwise)."""

    timeout = 10

    def __init__(self, messenger: str = "telegram"):
        self.messenger = messenger
        self.token = _secret("TELEGRAM_BOT_TOKEN")
        self.base = (_secret("TELEGRAM_API_URL") or "https://api.telegram.org").rstrip(
            "/"
        )

    def send(self, chat_id: str, text: str) -> None:
        if not self.token:
            raise BotError("TELEGRAM_BOT_TOKEN is not set")
        try:
            response = requests.post(
                f"{self.base}/bot{self.token}/sendMessage",
                json={
                    "chat_id": chat_id,
                    "text": text[:4096],
                    "disable_web_page_preview": True,
                },
                timeout=self.timeout,
            )
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise BotError(f"Telegram Bot API unreachable: {exc}") from exc
        if not data.get("ok"):
            raise BotError(
                f"Telegram Bot API: {data.get('error_code')} {data.get('description')}"
            )


class _HttpBot:
    """A bot API over HTTPS (``requests``): the token and base address from
    settings; any transport failure or refusal is a ``BotError``."""

    timeout = 10
    token_setting = ""
    url_setting = ""
    default_url = ""

    def __init__(self, messenger: str):
        self.messenger = messenger
        self.token = _secret(self.token_setting)
        self.base = (_secret(self.url_setting) or self.default_url).rstrip("/")

    def _post(self, url: str, **kwargs) -> dict:
        if not self.token:
            raise BotError(f"{self.token_setting} is not set")
        try:
            response = requests.post(url, timeout=self.timeout, **kwargs)
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise BotError(f"{self.messenger} bot API unreachable: {exc}") from exc
        if not isinstance(data, dict):
            raise BotError(f"{self.messenger} bot API: unexpected answer")
        return data


class ViberBotGateway(_HttpBot):
    """Viber's ``send_message`` with the bot's auth token."""

    token_setting = "VIBER_BOT_TOKEN"
    url_setting = "VIBER_API_URL"
    default_url = "https://chatapi.viber.com/pa"

    def send(self, chat_id: str, text: str) -> None:
        data = self._post(
            f"{self.base}/send_message",
            headers={"X-Viber-Auth-Token": self.token},
            json={
                "receiver": chat_id,
                "type": "text",
                "text": text[:7000],
                "sender": {"name": _secret("VIBER_BOT_NAME") or "Cabinet"},
            },
        )
        if data.get("status") != 0:
            raise BotError(
                f"Viber: {data.get('status')} {data.get('status_message', '')}"
            )


class VkBotGateway(_HttpBot):
    """VK API ``messages.send`` with the group's access token."""

    token_setting = "VK_BOT_TOKEN"
    url_setting = "VK_API_URL"
    default_url = "https://api.vk.com/method"

    def send(self, chat_id: str, text: str) -> None:
        data = self._post(
            f"{self.base}/messages.send",
            data={
                "peer_id": chat_id,
                "message": text[:4096],
                # VK drops a repeated random_id: a retried task sends once.
                "random_id": int.from_bytes(
                    hashlib.blake2b(
                        f"{chat_id}:{text}".encode(), digest_size=4
                    ).digest(),
                    "big",
                ),
                "access_token": self.token,
                "v": "5.199",
            },
        )
        if "error" in data:
            error = data["error"] or {}
            raise BotError(f"VK: {error.get('error_code')} {error.get('error_msg')}")


class OkBotGateway(_HttpBot):
    """OK Bot API ``/me/messages/<chat_id>`` with the bot's access token."""

    token_setting = "OK_BOT_TOKEN"
    url_setting = "OK_API_URL"
    default_url = "https://api.ok.ru/graph"

    def send(self, chat_id: str, text: str) -> None:
        data = self._post(
            f"{self.base}/me/messages/{quote(chat_id, safe=':')}",
            params={"access_token": self.token},
            json={"recipient": {"chat_id": chat_id}, "message": {"text": text[:4000]}},
        )
        if not data.get("success") and not data.get("message_id"):
            raise BotError(f"OK: {data.get('error_code')} {data.get('error_msg')}")


def gateway(messenger: str):
    path = (getattr(settings, "MESSENGER_GATEWAYS", {}) or {}).get(
        messenger, "social.bots.FakeMessengerGateway"
    )
    return import_string(path)(messenger)
