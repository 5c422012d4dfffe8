"""The chat's WebSockets: a widget visitor (``/ws/chat/visitor/``) and an
operator's console (``/ws/chat/operator/``).  Frames are JSON objects with a
``type``; every write goes through ``services`` (in a thread, as Django's ORM
is synchronous) and reaches the other side through the channel layer."""

import asyncio
import json
import re
from urllib.parse import parse_qs

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from cabinet.models import Account

from . import live, selectors, services
from .models import Conversation, Visitor


def database_sync_to_async(func):
    """The ORM in a thread of the pool, not the one shared sync thread: one
    server process writes several conversations' messages at once (each thread
    keeps its own database connection; a conversation's writes are serialised
    by its row lock)."""
    return DatabaseSyncToAsync(func, thread_sensitive=False)


MAX_FRAME = 16 * 1024  # characters of one incoming frame
VISITOR_KEY = re.compile(r"[0-9a-f]{32}")


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return ""


class _Json(AsyncWebsocketConsumer):
    async def send_json(self, data: dict) -> None:
        await self.send(text_data=json.dumps(data, ensure_ascii=False))

    async def chat_event(self, event):
        await self.send_json(event["data"])

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME:
            await self.send_json(
                {"type": "error", "code": "too_long", "text": self.t("too_long")}
            )
            return
        try:
            data = json.loads(text_data)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            await self.send_json({"type": "error", "code": "invalid", "text": ""})
            return
        handler = getattr(self, "on_" + str(data.get("type")), None)
        if handler is None or not str(data.get("type")).isidentifier():
            await self.send_json({"type": "error", "code": "invalid", "text": ""})
            return
        await handler(data)

    def t(self, code: str) -> str:
        return _("Сообщение слишком длинное.") if code == "too_long" else code


class VisitorConsumer(_Json):
    """``?site=<key>&visitor=<32 hex>``; only from a page of the site's origin."""

    visitor: Visitor | None = None

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        key = (query.get("site") or [""])[0]
        vkey = (query.get("visitor") or [""])[0]
        origin = _header(self.scope, b"origin").lower()
        site = await database_sync_to_async(selectors.site_by_key)(key)
        if (
            site is None
            or origin != site.origin
            or not VISITOR_KEY.fullmatch(vkey)
            or site.account.is_blocked
        ):
            await self.close(code=4403)
            return
        self.site = site
        client = self.scope.get("client") or [None]
        self.visitor = await database_sync_to_async(services.visitor_connect)(
            site=site,
            key=vkey,
            user_agent=_header(self.scope, b"user-agent"),
            ip=client[0],
        )
        await self.accept()
        if self.visitor.blocked_at:
            await self.send_json(
                {"type": "error", "code": "blocked", "text": self.t("blocked")}
            )
            await self.close(code=4003)
            return
        self.groups_joined = [
            live.visitor_group(self.visitor.pk),
            live.site_group(site.pk),
        ]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        online = await database_sync_to_async(selectors.operators_online)(
            account_id=site.account_id
        )
        await self.send_json({"type": "ready", "online": online})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def chat_event(self, event):
        data = event["data"]
        if data.get("type") == "error" and data.get("code") == "blocked":
            # The operator blocked this visitor: refuse at once from now on.
            self.visitor.blocked_at = timezone.now()
            data = {**data, "text": self.t("blocked")}
        await self.send_json(data)

    def t(self, code: str) -> str:
        with override(self.site.language if getattr(self, "site", None) else "ru"):
            return {
                "too_long": _("Сообщение слишком длинное."),
                "blocked": _("Оператор ограничил переписку с вами."),
            }.get(code, code)

    async def on_hello(self, data):
        """The widget (re)connected: what it has not seen since ``after``."""
        after = data.get("after")
        after = after if isinstance(after, int) and after >= 0 else 0
        page, referrer = data.get("page"), data.get("referrer")
        if isinstance(page, str) or isinstance(referrer, str):
            await database_sync_to_async(services.visitor_connect)(
                site=self.site,
                key=self.visitor.key,
                page=page if isinstance(page, str) else "",
                referrer=referrer if isinstance(referrer, str) else "",
            )
        rows = await database_sync_to_async(selectors.visitor_history)(
            visitor=self.visitor, after=after
        )
        await self.send_json(
            {
                "type": "history",
                "messages": [services.message_json(m) for m in rows],
            }
        )

    async def _write(self, func, data, **kwargs):
        with override(self.site.language):
            try:
                msg = await database_sync_to_async(func)(visitor=self.visitor, **kwargs)
            except services.ChatError as exc:
                await self.send_json(
                    {
                        "type": "error",
                        "code": exc.code,
                        "text": exc.message,
                        "client_id": data.get("client_id"),
                    }
                )
                return None
        await self.send_json(
            {"type": "ack", "client_id": data.get("client_id"), "id": msg.pk}
        )
        return msg

    async def on_message(self, data):
        # A block since the socket opened is checked in the write itself.
        await self._write(
            services.visitor_message,
            data,
            text=data.get("text"),
            client_id=data.get("client_id") or "",
        )

    async def on_leave(self, data):
        await self.visitor_refresh()
        msg = await self._write(
            services.leave_message,
            data,
            name=data.get("name"),
            email=data.get("email"),
            text=data.get("text"),
        )
        if msg is not None:
            await self.send_json({"type": "left"})

    async def on_typing(self, data):
        conv = await database_sync_to_async(selectors.visitor_current)(
            visitor=self.visitor
        )
        if conv is not None:
            await self.channel_layer.group_send(
                live.account_group(self.site.account_id),
                {
                    "type": "chat.event",
                    "data": {"type": "typing", "conversation": conv.pk},
                },
            )

    async def on_ping(self, data):
        await self.send_json({"type": "pong"})

    def _reload(self):
        self.visitor.refresh_from_db(fields=["blocked_at", "name", "email"])

    async def visitor_refresh(self):
        await database_sync_to_async(self._reload)()


class OperatorConsumer(_Json):
    """The console of a signed-in operator (session cookie, the cabinet's own
    origin): every event of the account's conversations."""

    async def connect(self):
        user = self.scope.get("user")
        self.operator = await database_sync_to_async(selectors.operator_for)(user)
        active = await database_sync_to_async(
            lambda: Account.objects.filter(
                pk=getattr(user, "account_id", None), is_blocked=False
            ).exists()
        )()
        if self.operator is None or not active:
            await self.close(code=4403)
            return
        self.user = user
        # Answers are written one after another by a task of their own, so
        # the events of other conversations keep arriving meanwhile.
        self.outgoing = asyncio.Queue()
        self.writer = asyncio.create_task(self._write_answers())
        self.group = live.account_group(self.operator.account_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await database_sync_to_async(services.operator_seen)(
            operator_id=self.operator.pk, online=True
        )
        await self.send_json({"type": "ready", "operator": self.operator.pk})

    async def disconnect(self, code):
        if getattr(self, "writer", None):
            self.writer.cancel()
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await database_sync_to_async(services.operator_seen)(
                operator_id=self.operator.pk, online=False
            )

    async def on_ping(self, data):
        await database_sync_to_async(services.operator_seen)(
            operator_id=self.operator.pk, online=True
        )
        await self.send_json({"type": "pong"})

    async def _conversation(self, conversation_id):
        return await database_sync_to_async(self._conversation_get)(conversation_id)

    def _conversation_get(self, conversation_id):
        try:
            return selectors.conversation_get(
                account_id=self.operator.account_id,
                conversation_id=int(conversation_id),
            )
        except (Conversation.DoesNotExist, TypeError, ValueError):
            return None

    async def on_message(self, data):
        await self.outgoing.put(data)

    async def _write_answers(self):
        while True:
            data = await self.outgoing.get()
            await self._answer(data)

    async def _answer(self, data):
        conv = await self._conversation(data.get("conversation"))
        if conv is None:
            await self.send_json(
                {
                    "type": "error",
                    "code": "not_found",
                    "text": _("Диалог не найден."),
                    "client_id": data.get("client_id"),
                }
            )
            return
        try:
            msg = await database_sync_to_async(services.operator_message)(
                operator=self.operator,
                conversation=conv,
                text=data.get("text"),
                client_id=data.get("client_id") or "",
                user=self.user,
            )
        except services.ChatError as exc:
            await self.send_json(
                {
                    "type": "error",
                    "code": exc.code,
                    "text": exc.message,
                    "client_id": data.get("client_id"),
                }
            )
            return
        await self.send_json(
            {"type": "ack", "client_id": data.get("client_id"), "id": msg.pk}
        )

    async def on_typing(self, data):
        conv = await self._conversation(data.get("conversation"))
        if conv is not None:
            await self.channel_layer.group_send(
                live.visitor_group(conv.visitor_id),
                {"type": "chat.event", "data": {"type": "typing"}},
            )

    async def on_read(self, data):
        conv = await self._conversation(data.get("conversation"))
        if conv is not None:
            await database_sync_to_async(services.mark_read)(conversation=conv)

    async def on_resume(self, data):
        after = data.get("after")
        after = after if isinstance(after, int) and after >= 0 else 0
        rows = await database_sync_to_async(selectors.account_messages_after)(
            account_id=self.operator.account_id, after=after
        )
        await self.send_json(
            {"type": "history", "messages": [services.message_json(m) for m in rows]}
        )
