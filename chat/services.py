"""The online chat's writes.  Every bad input raises ``ChatError`` with a
message for the user and changes nothing."""

import secrets
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import LedgerKind
from billing.services import InsufficientFunds, ledger_post
from cabinet import ratelimit
from cabinet.models import Account, User
from cabinet.notifications import notify
from messaging.models import Campaign, Source
from messaging.planning import LaunchError
from messaging.services import campaign_launch

from . import live, selectors
from .models import (
    MAX_TEXT,
    CannedReply,
    ChannelReply,
    ChatMessage,
    Conversation,
    Operator,
    Plan,
    Site,
    Visitor,
)

FREE_OPERATORS = 3
FULL_OPERATORS = 50
PLAN_MONTH = timedelta(days=30)
# A visitor may write this many messages in FLOOD_WINDOW seconds, and
# HOURLY_LIMIT in an hour.
FLOOD_LIMIT = 8
FLOOD_WINDOW = 10
HOURLY_LIMIT = 200
ONLINE_FOR = timedelta(seconds=60)
CHANNELS = ("sms", "viber")


class ChatError(Exception):
    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


# --- sites ----------------------------------------------------------------------


def normalise_address(address: str) -> tuple[str, str]:
    """(address as shown, origin) of a site address typed by the user."""
    raw = (address or "").strip()
    if not raw:
        raise ChatError(_("Введите адрес сайта."))
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ChatError(_("Неверный адрес сайта: %(a)s") % {"a": address[:100]})
    host = (parts.hostname or "").lower()
    if (
        parts.scheme not in ("http", "https")
        or not host
        or ("." not in host and host != "localhost")
        or len(raw) > 200
        or any(c.isspace() for c in raw)
    ):
        raise ChatError(_("Неверный адрес сайта: %(a)s") % {"a": address[:100]})
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    shown = origin + (parts.path.rstrip("/") if parts.path not in ("", "/") else "")
    return shown, origin


def site_add(*, account: Account, address: str, language: str, user=None) -> Site:
    shown, origin = normalise_address(address)
    if language not in Site.Language.values:
        raise ChatError(_("Выберите язык виджета."))
    if Site.objects.filter(account=account, origin=origin).exists():
        raise ChatError(_("Сайт %(o)s уже подключён.") % {"o": origin})
    with transaction.atomic():
        site = Site.objects.create(
            account=account, address=shown, origin=origin, language=language
        )
        # The first site: whoever connects it answers in the console.
        if user is not None and not Operator.objects.filter(account=account).exists():
            Operator.objects.create(
                account=account, user=user, name=user.full_name or user.email[:60]
            )
    return site


APPEARANCE = ("color", "font", "size", "position", "greeting", "language")


def site_appearance_save(*, site: Site, data: dict) -> Site:
    for name in APPEARANCE:
        if name in data:
            setattr(site, name, data[name])
    site.save(update_fields=list(APPEARANCE))
    live.publish(live.site_group(site.pk), {"type": "appearance"})
    return site


def site_delete(*, site: Site) -> None:
    site.delete()


# --- plan and operators -----------------------------------------------------------


def plan_buy(*, account: Account, user=None) -> Plan:
    """The full version for a month from now (or from the end of the paid
    month), charged through the ledger."""
    price = Decimal(settings.CHAT_FULL_PLAN_PRICE)
    with transaction.atomic():
        plan, _created = Plan.objects.select_for_update().get_or_create(account=account)
        now = timezone.now()
        start = plan.full_until if plan.is_full(now) else now
        try:
            ledger_post(
                account_id=account.pk,
                amount=-price,
                kind=LedgerKind.CHARGE,
                reason=_("Online-чат: полная версия до %(d)s")
                % {"d": timezone.localtime(start + PLAN_MONTH).strftime("%d.%m.%Y")},
                reference=f"chat-plan:{plan.pk}:{plan.purchases + 1}",
                created_by=user,
                service="chat",
            )
        except InsufficientFunds:
            raise ChatError(
                _("Недостаточно средств: полная версия стоит %(p)s ₽ в месяц.")
                % {"p": price},
                code="insufficient_funds",
            )
        plan.full_until = start + PLAN_MONTH
        plan.purchases += 1
        plan.save(update_fields=["full_until", "purchases"])
    return plan


def operator_add(*, account: Account, user_id, name: str = "") -> Operator:
    with transaction.atomic():
        # One add at a time per account: the limit cannot be passed together.
        Account.objects.select_for_update().only("pk").get(pk=account.pk)
        user = User.objects.filter(
            account=account, pk=user_id if str(user_id).isdigit() else 0
        ).first()
        if user is None:
            raise ChatError(_("Выберите пользователя кабинета."))
        if Operator.objects.filter(user=user).exists():
            raise ChatError(_("%(e)s уже оператор.") % {"e": user.email})
        full = selectors.plan_of(account_id=account.pk).is_full()
        limit = FULL_OPERATORS if full else FREE_OPERATORS
        if Operator.objects.filter(account=account).count() >= limit:
            if full:
                raise ChatError(
                    _("Не больше %(n)s операторов.") % {"n": limit}, code="limit"
                )
            raise ChatError(
                _(
                    "В бесплатной версии — не больше %(n)s операторов. "
                    "Подключите полную версию, чтобы добавить ещё."
                )
                % {"n": limit},
                code="limit",
            )
        name = (name or "").strip()[:60] or user.full_name or user.email[:60]
        return Operator.objects.create(account=account, user=user, name=name)


def operator_remove(*, operator: Operator) -> None:
    operator.delete()


def operator_seen(*, operator_id: int, online: bool) -> bool:
    """Heartbeat of an open console; returns whether the account's "online"
    state changed."""
    op = Operator.objects.get(pk=operator_id)
    before = selectors.operators_online(account_id=op.account_id)
    Operator.objects.filter(pk=operator_id).update(
        seen_at=timezone.now() if online else None
    )
    after = selectors.operators_online(account_id=op.account_id)
    if before != after:
        for site_id in Site.objects.filter(account_id=op.account_id).values_list(
            "pk", flat=True
        ):
            live.publish(live.site_group(site_id), {"type": "state", "online": after})
    return before != after


def canned_add(*, account: Account, title: str, text: str) -> CannedReply:
    title, text = (title or "").strip(), (text or "").strip()
    if not title or not text:
        raise ChatError(_("Введите название и текст ответа."))
    if len(text) > MAX_TEXT:
        raise ChatError(_("Текст длиннее %(n)s символов.") % {"n": MAX_TEXT})
    return CannedReply.objects.create(account=account, title=title[:60], text=text)


# --- messages -----------------------------------------------------------------------


def message_json(m: ChatMessage, operator_name: str = "") -> dict:
    return {
        "id": m.pk,
        "conversation": m.conversation_id,
        "author": m.author,
        "operator": operator_name or (m.operator.name if m.operator_id else ""),
        "channel": m.channel,
        "text": m.text,
        "at": m.created_at.isoformat(),
        "client_id": m.client_id,
    }


def _clean_text(text) -> str:
    text = (text if isinstance(text, str) else "").strip()
    if not text:
        raise ChatError(_("Введите сообщение."), code="empty")
    if len(text) > MAX_TEXT:
        raise ChatError(
            _("Сообщение длиннее %(n)s символов.") % {"n": MAX_TEXT}, code="too_long"
        )
    return text.replace("\x00", "")


def _clean_client_id(client_id) -> str:
    client_id = client_id if isinstance(client_id, str) else ""
    return client_id[:64] if client_id.replace("-", "").isalnum() else ""


def visitor_connect(
    *, site: Site, key: str, page="", referrer="", user_agent="", ip=None
) -> Visitor:
    visitor, created = Visitor.objects.get_or_create(
        site=site, key=key, defaults={"account_id": site.account_id}
    )
    visitor.page = (page or visitor.page)[:500]
    visitor.referrer = (referrer or visitor.referrer)[:500]
    visitor.user_agent = (user_agent or visitor.user_agent)[:300]
    visitor.ip = ip or visitor.ip
    visitor.save(update_fields=["page", "referrer", "user_agent", "ip"])
    return visitor


def _open_conversation(visitor: Visitor, *, channel: str, campaign_id=None):
    conv = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("visitor")
        .filter(visitor=visitor, status=Conversation.Status.OPEN)
        .order_by("-pk")
        .first()
    )
    # Blocked since the socket opened?  Read with the conversation (or alone
    # for a first message): refused before anything is written.
    blocked = (
        conv.visitor.blocked_at
        if conv is not None
        else Visitor.objects.filter(pk=visitor.pk)
        .values_list("blocked_at", flat=True)
        .first()
    )
    if blocked:
        raise ChatError(_("Оператор ограничил переписку с вами."), code="blocked")
    if conv is None:
        conv = Conversation.objects.create(
            account_id=visitor.account_id,
            visitor=visitor,
            site_id=visitor.site_id,
            channel=channel,
            campaign_id=campaign_id,
        )
        return conv, True
    return conv, False


def _inbound(
    visitor: Visitor, text: str, *, channel="widget", client_id="", campaign_id=None
) -> tuple[ChatMessage, bool]:
    """Store a visitor's message in their open conversation (or a new one) and
    tell the operators.  Returns (message, created)."""
    with transaction.atomic():
        conv, new = _open_conversation(
            visitor, channel=channel, campaign_id=campaign_id
        )
        if client_id:
            old = ChatMessage.objects.filter(
                conversation=conv, author="visitor", client_id=client_id
            ).first()
            if old is not None:
                return old, False
        msg = ChatMessage.objects.create(
            account_id=visitor.account_id,
            conversation=conv,
            author=ChatMessage.Author.VISITOR,
            channel=channel,
            text=text,
            client_id=client_id,
        )
        updates = {"unread": F("unread") + 1, "last_message_at": msg.created_at}
        if channel != conv.channel:
            updates["channel"] = channel
        if campaign_id and campaign_id != conv.campaign_id:
            updates["campaign_id"] = campaign_id
        Conversation.objects.filter(pk=conv.pk).update(**updates)
        event = {"type": "message", "message": message_json(msg)}
        live.publish_many(
            [
                (live.visitor_group(visitor.pk), event),
                (
                    live.account_group(visitor.account_id),
                    {**event, "new_conversation": new},
                ),
            ]
        )
    return msg, True


def visitor_message(*, visitor: Visitor, text, client_id="") -> ChatMessage:
    """A widget visitor writes.  Refused: blocked visitor, empty or too long
    text, a flood."""
    if visitor.blocked_at:
        raise ChatError(_("Оператор ограничил переписку с вами."), code="blocked")
    text = _clean_text(text)
    client_id = _clean_client_id(client_id)
    wait = ratelimit.reserve(
        [
            ratelimit.Limit(f"chat:flood:{visitor.pk}", FLOOD_LIMIT),
        ],
        FLOOD_WINDOW,
    ) or ratelimit.reserve(
        [ratelimit.Limit(f"chat:hour:{visitor.pk}", HOURLY_LIMIT)], 3600
    )
    if wait is not None:
        raise ChatError(
            _("Слишком много сообщений. Подождите %(s)s с.") % {"s": int(wait) + 1},
            code="rate_limited",
        )
    msg, _created = _inbound(visitor, text, client_id=client_id)
    return msg


def leave_message(*, visitor: Visitor, name, email, text) -> ChatMessage:
    """The offline form: no operator was online.  The message waits in the
    console; the account gets a notification and its operators an e-mail."""
    if visitor.blocked_at:
        raise ChatError(_("Оператор ограничил переписку с вами."), code="blocked")
    name = (name if isinstance(name, str) else "").strip()[:100]
    email = (email if isinstance(email, str) else "").strip()[:200]
    if not email or "@" not in email or any(c.isspace() for c in email):
        raise ChatError(_("Введите e-mail для ответа."), code="email")
    text = _clean_text(text)
    if ratelimit.reserve([ratelimit.Limit(f"chat:leave:{visitor.pk}", 3)], 3600):
        raise ChatError(
            _("Слишком много сообщений. Попробуйте через час."), code="rate_limited"
        )
    with transaction.atomic():
        Visitor.objects.filter(pk=visitor.pk).update(name=name, email=email)
        visitor.name, visitor.email = name, email
        msg, _created = _inbound(visitor, text)
        Conversation.objects.filter(pk=msg.conversation_id).update(left_message=True)
        site = visitor.site.address if visitor.site_id else ""
        notify(
            account_id=visitor.account_id,
            title=_("Сообщение с сайта %(s)s") % {"s": site},
            body=f"{name} <{email}>: {text}"[:1000],
            url=f"/chat/console/?c={msg.conversation_id}",
        )
        recipients = selectors.operator_emails(account_id=visitor.account_id)
        if recipients:
            body = _(
                "Посетитель сайта %(s)s оставил сообщение, пока операторов не было "
                "в сети.\n\nИмя: %(n)s\nE-mail: %(e)s\n\n%(t)s\n"
            ) % {"s": site, "n": name or "—", "e": email, "t": text}
            transaction.on_commit(
                lambda: send_mail(
                    _("Online-чат: новое сообщение с сайта %(s)s") % {"s": site},
                    body,
                    None,
                    recipients,
                    fail_silently=True,
                )
            )
    return msg


def operator_message(
    *,
    conversation: Conversation,
    text,
    operator: Operator | None = None,
    client_id="",
    user=None,
) -> ChatMessage:
    """An operator (or the chat API, ``operator=None``) answers.  A conversation
    the visitor started from an SMS or Viber message is answered through that
    channel: a campaign of one message through the send pipeline, charged like
    any other."""
    text = _clean_text(text)
    client_id = _clean_client_id(client_id)
    if operator is not None and conversation.account_id != operator.account_id:
        raise ChatError(_("Диалог не найден."), code="not_found")
    name = operator.name if operator else "API"
    with transaction.atomic():
        conv = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("visitor")
            .get(pk=conversation.pk)
        )
        if client_id:
            old = ChatMessage.objects.filter(
                conversation=conv, author="operator", client_id=client_id
            ).first()
            if old is not None:
                return old
        visitor = conv.visitor
        campaign_id = None
        if conv.channel in CHANNELS and visitor.phone:
            campaign_id = _answer_through_channel(conv, visitor, text, user).pk
        msg = ChatMessage.objects.create(
            account_id=conv.account_id,
            conversation=conv,
            author=ChatMessage.Author.OPERATOR,
            operator=operator,
            channel=conv.channel,
            text=text,
            client_id=client_id,
            campaign_id=campaign_id,
        )
        updates = {"last_message_at": msg.created_at, "unread": 0}
        if conv.status == Conversation.Status.CLOSED:
            updates.update(status=Conversation.Status.OPEN, closed_at=None)
        if conv.operator_id is None and operator is not None:
            updates["operator"] = operator
        Conversation.objects.filter(pk=conv.pk).update(**updates)
        event = {"type": "message", "message": message_json(msg, name)}
        live.publish_many(
            [
                (live.visitor_group(visitor.pk), event),
                (live.account_group(conv.account_id), event),
            ]
        )
    return msg


def _answer_through_channel(conv, visitor, text, user) -> Campaign:
    account = Account.objects.get(pk=conv.account_id)
    sender = conv.campaign.sender if conv.campaign_id else ""
    try:
        return campaign_launch(
            account=account,
            channel=conv.channel,
            text=text,
            sender=sender,
            phones=[visitor.phone],
            description=_("Online-чат: ответ оператора"),
            source=Source.CABINET,
            created_by=user,
            tags=["online-chat"],
        )
    except LaunchError as exc:
        raise ChatError(
            _("Ответ не отправлен: %(e)s") % {"e": exc.message}, code=exc.code
        )


def mark_read(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(unread=0)
    live.publish(
        live.account_group(conversation.account_id),
        {"type": "read", "conversation": conversation.pk},
    )


def _system(conv: Conversation, text: str) -> ChatMessage:
    msg = ChatMessage.objects.create(
        account_id=conv.account_id,
        conversation=conv,
        author=ChatMessage.Author.SYSTEM,
        channel="widget",
        text=text,
    )
    event = {"type": "message", "message": message_json(msg)}
    live.publish(live.account_group(conv.account_id), event)
    return msg


def transfer(*, conversation: Conversation, operator_id, by: Operator | None) -> None:
    target = Operator.objects.filter(
        account_id=conversation.account_id,
        pk=operator_id if str(operator_id).isdigit() else 0,
    ).first()
    if target is None:
        raise ChatError(_("Выберите оператора."))
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(operator=target)
        _system(
            conversation,
            _("Диалог передан оператору %(n)s") % {"n": target.name}
            + (f" ({by.name})" if by else ""),
        )
        notify(
            account_id=conversation.account_id,
            title=_("Вам передан диалог в Online-чате"),
            body=f"{target.name}: {conversation.visitor.label()}",
            url=f"/chat/console/?c={conversation.pk}",
        )


def block(*, conversation: Conversation) -> None:
    with transaction.atomic():
        Visitor.objects.filter(pk=conversation.visitor_id).update(
            blocked_at=timezone.now()
        )
        _system(conversation, _("Посетитель заблокирован"))
        live.publish(
            live.visitor_group(conversation.visitor_id),
            {"type": "error", "code": "blocked", "text": "blocked"},
        )


def unblock(*, conversation: Conversation) -> None:
    Visitor.objects.filter(pk=conversation.visitor_id).update(blocked_at=None)


def close(*, conversation: Conversation) -> None:
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.CLOSED, closed_at=timezone.now(), unread=0
        )
        _system(conversation, _("Диалог закрыт"))
        live.publish(live.visitor_group(conversation.visitor_id), {"type": "closed"})


def transcript_send(*, conversation: Conversation, email: str) -> None:
    email = (email or "").strip()
    if not email or "@" not in email or any(c.isspace() for c in email):
        raise ChatError(_("Введите e-mail."))
    lines = []
    for m in selectors.messages_of(conversation_id=conversation.pk):
        who = {
            "visitor": conversation.visitor.label(),
            "operator": m.operator.name if m.operator_id else _("Оператор"),
        }.get(m.author, "—")
        at = timezone.localtime(m.created_at).strftime("%d.%m.%Y %H:%M")
        lines.append(f"[{at}] {who}: {m.text}")
    send_mail(
        _("Online-чат: переписка с %(v)s") % {"v": conversation.visitor.label()},
        "\n".join(lines) + "\n",
        None,
        [email],
    )


# --- replies from channels (H3, S14) --------------------------------------------------


def channel_replies(*, channel: str, replies: list[dict]) -> int:
    """Recipients' SMS/Viber replies to campaigns that asked for answers in the
    online chat open or continue the contact's conversation.  Repeats (same
    channel and carrier id) are taken once.  Returns messages stored."""
    stored = 0
    campaign_ids = {r.get("campaign_id") for r in replies if r.get("campaign_id")}
    wanted = {
        c.pk: c
        for c in Campaign.objects.filter(pk__in=campaign_ids).only(
            "pk", "account_id", "options", "sender", "channel"
        )
        if (c.options or {}).get("replies") or (c.options or {}).get("chat_link")
    }
    for r in replies:
        campaign = wanted.get(r.get("campaign_id"))
        phone = str(r.get("phone") or "").lstrip("+")[:20]
        text = str(r.get("text") or "").strip()[:MAX_TEXT]
        external_id = str(r.get("external_id") or "")[:100]
        if campaign is None or not phone or not text:
            continue
        if (
            external_id
            and ChannelReply.objects.filter(
                channel=channel, external_id=external_id
            ).exists()
        ):
            continue
        try:
            with transaction.atomic():
                visitor, _c = Visitor.objects.get_or_create(
                    account_id=campaign.account_id,
                    phone=phone,
                    defaults={"contact_id": r.get("contact_id")},
                )
                if visitor.blocked_at:
                    continue
                msg, created = _inbound(
                    visitor, text, channel=channel, campaign_id=campaign.pk
                )
                if external_id:
                    ChannelReply.objects.create(
                        channel=channel, external_id=external_id, message=msg
                    )
        except IntegrityError:  # the same reply taken by a concurrent receiver
            continue
        stored += 1
    return stored


def visitor_key() -> str:
    return secrets.token_hex(16)
