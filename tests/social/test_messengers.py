"""Notifications in messengers (manual section 13): a one-time code bound
through each messenger's real webhook format and verification, per-kind
routing, unbinding, and the real Telegram Bot API client against a local fake
Bot API server."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import LedgerKind
from billing.services import ledger_post
from cabinet.models import Account, Notification
from cabinet.notifications import notify
from social.bots import FakeMessengerGateway
from social.models import BindingCode, MessengerBinding

pytestmark = pytest.mark.django_db

SECRET = "tg-secret-0123456789"


@pytest.fixture(autouse=True)
def _bots(settings):
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.VIBER_BOT_TOKEN = "viber-token"
    settings.VK_CALLBACK_SECRET = "vk-secret"
    settings.VK_CONFIRMATION_CODE = "a1b2c3d4"
    settings.OK_WEBHOOK_SECRET = "ok-secret"
    settings.MESSENGER_GATEWAYS = {
        m: "social.bots.FakeMessengerGateway" for m in ("telegram", "viber", "vk", "ok")
    }
    FakeMessengerGateway.outbox = []
    yield
    FakeMessengerGateway.outbox = []


def code_for(client, messenger="telegram") -> str:
    html = client.get(f"/social/messengers/?m={messenger}").content.decode()
    return (
        BindingCode.objects.filter(messenger=messenger, used_at__isnull=True)
        .latest("created_at")
        .code
        if "data-code" in html
        else ""
    )


def telegram_update(text, chat_id=424242, update_id=1):
    return {
        "update_id": update_id,
        "message": {
            "message_id": 7,
            "from": {
                "id": chat_id,
                "is_bot": False,
                "first_name": "Анна",
                "username": "anna",
            },
            "chat": {"id": chat_id, "type": "private", "first_name": "Анна"},
            "date": 1700000000,
            "text": text,
        },
    }


def post_telegram(client, body, secret=SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret else {}
    return client.post(
        "/social/bots/telegram/",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_the_centre_links_to_messengers_and_shows_a_code(client_for, user):
    client = client_for(user)
    assert "/social/messengers/" in client.get("/notifications/").content.decode()
    dropdown = client.get("/notifications/?dropdown=1", HTTP_HX_REQUEST="true")
    assert "Получать в мессенджеры" in dropdown.content.decode()
    html = client.get("/social/messengers/").content.decode()
    for name in ("Telegram", "Viber", "VK", "OK"):
        assert name in html
    code = BindingCode.objects.get(account=user.account, messenger="telegram")
    assert code.code in html and len(code.code) == 8
    assert "t.me/" in html
    # The same live code on a second look; another messenger, another code.
    client.get("/social/messengers/")
    client.get("/social/messengers/?m=vk")
    assert BindingCode.objects.filter(account=user.account).count() == 2


def test_telegram_binding_then_a_low_balance_notification_arrives_there(
    client, client_for, user
):
    code = code_for(client_for(user))
    client.logout()
    response = post_telegram(client, telegram_update(f"/start {code}"))
    assert response.status_code == 200
    binding = MessengerBinding.objects.get()
    assert (binding.account_id, binding.messenger, binding.chat_id) == (
        user.account_id,
        "telegram",
        "424242",
    )
    assert binding.title == "anna"
    reply = FakeMessengerGateway.outbox[-1]
    assert reply[:2] == ("telegram", "424242") and "Готово" in reply[2]
    # The critical balance is crossed: the note arrives in Telegram.
    Account.objects.filter(pk=user.account_id).update(
        low_balance_threshold=Decimal("500")
    )
    ledger_post(
        account_id=user.account_id,
        amount=Decimal("-600"),
        kind=LedgerKind.CHARGE,
        reason="тест",
    )
    sent = [m for m in FakeMessengerGateway.outbox if "Баланс ниже" in m[2]]
    assert sent and sent[0][1] == "424242"
    assert "/billing/pay/" in sent[0][2]


def test_bad_codes_bind_nothing(client, client_for, user):
    code = code_for(client_for(user))
    for text in ("12345678", "привет", ""):
        assert post_telegram(client, telegram_update(text)).status_code == 200
    assert not MessengerBinding.objects.exists()
    answers = [m[2] for m in FakeMessengerGateway.outbox]
    assert "Код не найден" in answers[0] and "отправьте сюда код" in answers[1]
    # Expired.
    BindingCode.objects.filter(code=code).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    post_telegram(client, telegram_update(code))
    assert "истёк" in FakeMessengerGateway.outbox[-1][2]
    assert not MessengerBinding.objects.exists()


def test_a_code_sent_twice_binds_once(client, client_for, user):
    code = code_for(client_for(user))
    post_telegram(client, telegram_update(code, chat_id=1))
    post_telegram(client, telegram_update(code, chat_id=2))
    assert MessengerBinding.objects.count() == 1
    assert "уже использован" in FakeMessengerGateway.outbox[-1][2]


def test_guessing_codes_is_stopped(client, client_for, user):
    code = code_for(client_for(user))
    for n in range(11):
        post_telegram(client, telegram_update(f"{n:08d}"))
    post_telegram(client, telegram_update(code))
    assert not MessengerBinding.objects.exists()
    assert "Слишком много" in FakeMessengerGateway.outbox[-1][2]


def test_forged_webhooks_are_refused(client, client_for, user, settings):
    code = code_for(client_for(user))
    update = telegram_update(code)
    assert post_telegram(client, update, secret="wrong").status_code == 403
    assert post_telegram(client, update, secret="").status_code == 403
    settings.TELEGRAM_WEBHOOK_SECRET = ""  # not configured: nothing is accepted
    assert post_telegram(client, update, secret="").status_code == 403
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    response = client.post(
        "/social/bots/telegram/",
        b"not json",
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )
    assert response.status_code == 400
    assert client.get("/social/bots/telegram/").status_code == 405
    body = json.dumps(
        {
            "event": "message",
            "sender": {"id": "v1"},
            "message": {"type": "text", "text": code},
        }
    ).encode()
    bad = client.post(
        "/social/bots/viber/",
        body,
        content_type="application/json",
        HTTP_X_VIBER_CONTENT_SIGNATURE="00" * 32,
    )
    assert bad.status_code == 403
    vk = {
        "type": "message_new",
        "secret": "nope",
        "group_id": 1,
        "object": {"message": {"from_id": 5, "peer_id": 5, "text": code}},
    }
    assert (
        client.post(
            "/social/bots/vk/", json.dumps(vk), content_type="application/json"
        ).status_code
        == 403
    )
    ok = {
        "webhookType": "MESSAGE_CREATED",
        "sender": {"user_id": "user:1"},
        "recipient": {"chat_id": "chat:C1"},
        "message": {"text": code},
    }
    assert (
        client.post(
            "/social/bots/ok/guess/", json.dumps(ok), content_type="application/json"
        ).status_code
        == 403
    )
    assert not MessengerBinding.objects.exists()
    assert BindingCode.objects.get(code=code).used_at is None


def test_viber_vk_and_ok_bind_with_their_own_formats(client, client_for, user):
    owner = client_for(user)
    code = code_for(owner, "viber")
    body = json.dumps(
        {
            "event": "message",
            "timestamp": 1700000000000,
            "message_token": 1,
            "sender": {"id": "01234567890A=", "name": "Анна"},
            "message": {"type": "text", "text": code},
        }
    ).encode()
    signature = hmac.new(b"viber-token", body, hashlib.sha256).hexdigest()
    response = client.post(
        "/social/bots/viber/",
        body,
        content_type="application/json",
        HTTP_X_VIBER_CONTENT_SIGNATURE=signature,
    )
    assert response.status_code == 200

    code = code_for(owner, "vk")
    confirmation = client.post(
        "/social/bots/vk/",
        json.dumps({"type": "confirmation", "group_id": 1, "secret": "vk-secret"}),
        content_type="application/json",
    )
    assert confirmation.content == b"a1b2c3d4"
    message_new = {
        "type": "message_new",
        "group_id": 1,
        "event_id": "e1",
        "v": "5.199",
        "secret": "vk-secret",
        "object": {
            "message": {"from_id": 777, "peer_id": 777, "text": code},
            "client_info": {},
        },
    }
    response = client.post(
        "/social/bots/vk/", json.dumps(message_new), content_type="application/json"
    )
    assert response.content == b"ok"

    code = code_for(owner, "ok")
    ok = {
        "webhookType": "MESSAGE_CREATED",
        "timestamp": 1700000000000,
        "sender": {"user_id": "user:574", "name": "Анна"},
        "recipient": {"chat_id": "chat:C3f"},
        "message": {"text": code},
    }
    response = client.post(
        "/social/bots/ok/ok-secret/", json.dumps(ok), content_type="application/json"
    )
    assert response.status_code == 200
    got = set(MessengerBinding.objects.values_list("messenger", "chat_id"))
    assert got == {("viber", "01234567890A="), ("vk", "777"), ("ok", "chat:C3f")}


def bind(user, messenger="telegram", chat_id="1"):
    return MessengerBinding.objects.create(
        account=user.account, messenger=messenger, chat_id=chat_id
    )


def test_kinds_routing_and_unbind(client_for, user, other_user):
    tg = bind(user, "telegram", "1")
    vk = bind(user, "vk", "2")
    client = client_for(user)
    client.post(
        reverse("social:binding_kinds", args=[vk.pk]),
        {f"b{vk.pk}-kinds": ["sender", "support"]},
    )
    vk.refresh_from_db()
    assert vk.kinds == ["sender", "support"]
    notify(account_id=user.account_id, kind=Notification.Kind.PAYMENT, title="Оплата")
    notify(account_id=user.account_id, kind=Notification.Kind.SENDER, title="Имя")
    got = [(m, c, t.split("\n")[0]) for m, c, t in FakeMessengerGateway.outbox]
    assert got == [
        ("telegram", "1", "Оплата"),
        ("telegram", "1", "Имя"),
        ("vk", "2", "Имя"),
    ]
    # Bad kinds: refused, nothing changed.
    client.post(
        reverse("social:binding_kinds", args=[vk.pk]), {f"b{vk.pk}-kinds": ["nonsense"]}
    )
    vk.refresh_from_db()
    assert vk.kinds == ["sender", "support"]
    # Another account's binding: 404 and untouched.
    stranger = client_for(other_user)
    assert (
        stranger.post(reverse("social:binding_delete", args=[tg.pk])).status_code == 404
    )
    assert (
        stranger.post(
            reverse("social:binding_kinds", args=[tg.pk]), {f"b{tg.pk}-kinds": []}
        ).status_code
        == 404
    )
    assert MessengerBinding.objects.filter(pk=tg.pk).exists()
    client = client_for(user)
    assert (
        client.post(reverse("social:binding_delete", args=[tg.pk])).status_code == 302
    )
    FakeMessengerGateway.outbox = []
    notify(account_id=user.account_id, kind=Notification.Kind.PAYMENT, title="Ещё")
    assert FakeMessengerGateway.outbox == []
    # Another account's notifications never reach this account's chats.
    notify(account_id=other_user.account_id, kind=Notification.Kind.SENDER, title="X")
    assert FakeMessengerGateway.outbox == []


class FakeBotApi(BaseHTTPRequestHandler):
    """The Telegram Bot API's sendMessage, as far as our client uses it."""

    received: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.path, body))
        if self.path != "/botTEST:TOKEN/sendMessage":
            payload = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            status = 401
        else:
            payload = {
                "ok": True,
                "result": {
                    "message_id": len(self.received),
                    "chat": {"id": body["chat_id"]},
                    "text": body["text"],
                },
            }
            status = 200
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def bot_api(settings):
    FakeBotApi.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TELEGRAM_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TELEGRAM_BOT_TOKEN = "TEST:TOKEN"
    settings.MESSENGER_GATEWAYS = {
        **settings.MESSENGER_GATEWAYS,
        "telegram": "social.bots.TelegramBotGateway",
    }
    yield FakeBotApi
    server.shutdown()
    server.server_close()


def test_the_real_telegram_client_against_a_local_bot_api(
    client, client_for, user, bot_api
):
    code = code_for(client_for(user))
    post_telegram(client, telegram_update(code, chat_id=99))
    path, body = bot_api.received[-1]
    assert path == "/botTEST:TOKEN/sendMessage"
    assert body["chat_id"] == "99" and "Готово" in body["text"]
    Account.objects.filter(pk=user.account_id).update(
        low_balance_threshold=Decimal("500")
    )
    ledger_post(
        account_id=user.account_id,
        amount=Decimal("-600"),
        kind=LedgerKind.CHARGE,
        reason="тест",
    )
    path, body = bot_api.received[-1]
    assert body["chat_id"] == "99" and "Баланс ниже" in body["text"]


def test_the_telegram_client_reports_api_errors(settings, bot_api):
    from social.bots import BotError, TelegramBotGateway

    settings.TELEGRAM_BOT_TOKEN = "WRONG"
    with pytest.raises(BotError, match="401"):
        TelegramBotGateway().send("1", "x")
    settings.TELEGRAM_API_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.TELEGRAM_BOT_TOKEN = "TEST:TOKEN"
    with pytest.raises(BotError):
        TelegramBotGateway().send("1", "x")


class FakeBotApis(BaseHTTPRequestHandler):
    """Viber's send_message, VK's messages.send and OK's /me/messages, as far
    as our clients use them; a wrong token is refused in each API's way."""

    received: list = []

    def do_POST(self):
        from urllib.parse import parse_qs, urlsplit

        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        if url.path == "/viber/send_message":
            body = json.loads(raw)
            ok = self.headers.get("X-Viber-Auth-Token") == "viber-token"
            payload = (
                {"status": 0, "status_message": "ok", "message_token": 1}
                if ok
                else {"status": 2, "status_message": "invalidAuthToken"}
            )
        elif url.path == "/vk/messages.send":
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            ok = body.get("access_token") == "vk-token"
            payload = (
                {"response": 1}
                if ok
                else {
                    "error": {"error_code": 5, "error_msg": "User authorization failed"}
                }
            )
        elif url.path.startswith("/ok/me/messages/"):
            body = json.loads(raw)
            body["_chat"] = url.path.rsplit("/", 1)[-1]
            ok = parse_qs(url.query).get("access_token") == ["ok-token"]
            payload = (
                {"success": True, "message_id": "mid.1"}
                if ok
                else {"error_code": 102, "error_msg": "PARAM_SESSION_EXPIRED"}
            )
        else:
            body, payload = {}, {}
        type(self).received.append((url.path, body))
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def bot_apis(settings):
    FakeBotApis.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBotApis)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.VIBER_API_URL = f"{base}/viber"
    settings.VK_API_URL = f"{base}/vk"
    settings.OK_API_URL = f"{base}/ok"
    settings.VK_BOT_TOKEN = "vk-token"
    settings.OK_BOT_TOKEN = "ok-token"
    settings.MESSENGER_GATEWAYS = {
        **settings.MESSENGER_GATEWAYS,
        "viber": "social.bots.ViberBotGateway",
        "vk": "social.bots.VkBotGateway",
        "ok": "social.bots.OkBotGateway",
    }
    yield FakeBotApis
    server.shutdown()
    server.server_close()


def test_viber_vk_and_ok_clients_against_local_bot_apis(user, bot_apis, settings):
    bind(user, "viber", "01234567890A=")
    bind(user, "vk", "777")
    bind(user, "ok", "chat:C3f")
    notify(account_id=user.account_id, kind=Notification.Kind.BALANCE, title="Баланс")
    got = {path: body for path, body in bot_apis.received}
    viber = got["/viber/send_message"]
    assert viber["receiver"] == "01234567890A=" and viber["type"] == "text"
    assert viber["text"].startswith("Баланс")
    vk = got["/vk/messages.send"]
    assert vk["peer_id"] == "777" and vk["v"] and int(vk["random_id"]) >= 0
    assert vk["message"].startswith("Баланс")
    ok = got["/ok/me/messages/chat:C3f"]
    assert ok["recipient"] == {"chat_id": "chat:C3f"}
    assert ok["message"]["text"].startswith("Баланс")

    from social.bots import BotError, OkBotGateway, ViberBotGateway, VkBotGateway

    settings.VIBER_BOT_TOKEN = "wrong"
    settings.VK_BOT_TOKEN = "wrong"
    settings.OK_BOT_TOKEN = "wrong"
    for gateway, match in (
        (ViberBotGateway("viber"), "invalidAuthToken"),
        (VkBotGateway("vk"), "5 User authorization failed"),
        (OkBotGateway("ok"), "PARAM_SESSION_EXPIRED"),
    ):
        with pytest.raises(BotError, match=match):
            gateway.send("1", "x")
    settings.VK_BOT_TOKEN = ""
    with pytest.raises(BotError, match="VK_BOT_TOKEN"):
        VkBotGateway("vk").send("1", "x")
