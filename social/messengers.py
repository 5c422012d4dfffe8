"""Notifications in messengers (SPEC N1, manual section 13): one-time binding
codes, binding a chat when the bot receives its code, which kinds of
notifications each chat gets, unbinding, and sending a notification out
through the messenger's gateway (``social.bots``)."""

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cabinet.models import Account, Notification

from .bots import PARSERS, Incoming, Parsed, gateway
from .models import BindingCode, Messenger, MessengerBinding

CODE_DIGITS = 8
# Wrong codes one chat may send in ``FAILURE_WINDOW`` seconds (guessing).
MAX_FAILURES = 10
FAILURE_WINDOW = 600
CODE_RE = re.compile(rf"\b(\d{{{CODE_DIGITS}}})\b")


class BindingError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def code_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "MESSENGER_CODE_TTL", 600)))


def bot_link(messenger: str) -> str:
    """Where the user opens the bot (``MESSENGER_BOT_LINKS``)."""
    links = getattr(settings, "MESSENGER_BOT_LINKS", {}) or {}
    return links.get(messenger, "")


def code_issue(*, account, user, messenger: str) -> BindingCode:
    """The account's live code for ``messenger`` (a new one when the last has
    expired or was used): shown with the bot's link."""
    if messenger not in Messenger.values:
        raise BindingError(_("Неизвестный мессенджер."))
    now = timezone.now()
    live = (
        BindingCode.objects.filter(
            account_id=account.pk,
            messenger=messenger,
            used_at__isnull=True,
            expires_at__gt=now + timedelta(seconds=60),
        )
        .order_by("-created_at")
        .first()
    )
    if live is not None:
        return live
    for _attempt in range(5):
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        try:
            with transaction.atomic():
                return BindingCode.objects.create(
                    account_id=account.pk,
                    messenger=messenger,
                    code=code,
                    expires_at=now + code_ttl(),
                    created_by=user if getattr(user, "pk", None) else None,
                )
        except IntegrityError:  # the same live code exists: draw again
            continue
    raise BindingError(_("Не удалось выдать код: попробуйте ещё раз."))


def _failed(incoming: Incoming) -> bool:
    """Count a wrong code from a chat; True when it has sent too many."""
    key = f"social:bind-fail:{incoming.messenger}:{incoming.chat_id}"
    cache.add(key, 0, FAILURE_WINDOW)
    try:
        n = cache.incr(key)
    except ValueError:
        cache.set(key, 1, FAILURE_WINDOW)
        n = 1
    return n > MAX_FAILURES


def _too_many(incoming: Incoming) -> bool:
    key = f"social:bind-fail:{incoming.messenger}:{incoming.chat_id}"
    return (cache.get(key) or 0) >= MAX_FAILURES


HELP = (
    "Чтобы получать уведомления личного кабинета, отправьте сюда код из раздела "
    "«Уведомления → Получать в мессенджеры»."
)


def bind(incoming: Incoming) -> tuple[MessengerBinding | None, str]:
    """Bind the chat that sent a code: (the binding, the bot's answer).  A
    wrong, expired or used code binds nothing and says why."""
    if _too_many(incoming):
        return None, "Слишком много неверных кодов. Попробуйте позже."
    found = CODE_RE.search(incoming.text or "")
    if not found:
        return None, HELP
    code = found.group(1)
    now = timezone.now()
    with transaction.atomic():
        row = (
            BindingCode.objects.select_for_update()
            .filter(messenger=incoming.messenger, code=code)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            _failed(incoming)
            return None, (
                "Код не найден. Получите новый код в личном кабинете: "
                "«Уведомления → Получать в мессенджеры»."
            )
        if row.used_at is not None:
            _failed(incoming)
            return (
                None,
                "Этот код уже использован. Получите новый код в личном кабинете.",
            )
        if row.expires_at <= now:
            _failed(incoming)
            return (
                None,
                "Срок действия кода истёк. Получите новый код в личном кабинете.",
            )
        row.used_at = now
        row.save(update_fields=["used_at"])
        binding, created = MessengerBinding.objects.get_or_create(
            account_id=row.account_id,
            messenger=incoming.messenger,
            chat_id=incoming.chat_id,
            defaults={"title": incoming.title, "created_by_id": row.created_by_id},
        )
    name = Account.objects.values_list("name", flat=True).get(pk=row.account_id)
    if not created:
        return binding, f"Этот чат уже получает уведомления аккаунта «{name}»."
    return binding, (
        f"Готово: уведомления аккаунта «{name}» будут приходить сюда. "
        "Какие именно — настраивается в личном кабинете."
    )


def webhook_receive(
    *, messenger: str, headers, body: bytes, path_secret: str = ""
) -> Parsed:
    """A bot's webhook call: verify it (``Forged`` otherwise — nothing
    happens), bind the chats that sent codes and answer them through the
    messenger's gateway after the binding commits."""
    parser = PARSERS[messenger]
    if messenger == "ok":
        parsed = parser(headers, body, path_secret=path_secret)
    else:
        parsed = parser(headers, body)
    from .tasks import messenger_reply  # the task module imports this one

    for incoming in parsed.messages:
        _binding, answer = bind(incoming)
        transaction.on_commit(
            lambda i=incoming, a=answer: messenger_reply.delay(
                i.messenger, i.chat_id, a
            )
        )
    return parsed


def kinds_choices() -> list[tuple[str, str]]:
    return list(Notification.Kind.choices)


def binding_kinds_set(
    *, account, binding_id: int, kinds: list[str]
) -> MessengerBinding:
    """Which kinds of notifications a chat gets.
    ``MessengerBinding.DoesNotExist`` for another account's binding."""
    binding = MessengerBinding.objects.get(account_id=account.pk, pk=binding_id)
    valid = [k for k, _l in kinds_choices()]
    binding.kinds = [k for k in valid if k in set(kinds)]
    binding.save(update_fields=["kinds"])
    return binding


def binding_delete(*, account, binding_id: int) -> None:
    """Unbind; ``MessengerBinding.DoesNotExist`` for another account's."""
    binding = MessengerBinding.objects.get(account_id=account.pk, pk=binding_id)
    binding.delete()


def binding_send(*, binding_id: int, text: str) -> None:
    """Send ``text`` to a bound chat (a binding removed meanwhile: nothing)."""
    binding = MessengerBinding.objects.filter(pk=binding_id).first()
    if binding is None:
        return
    gateway(binding.messenger).send(binding.chat_id, text)


def reply_send(*, messenger: str, chat_id: str, text: str) -> None:
    gateway(messenger).send(chat_id, text)


def note_text(note) -> str:
    """A notification as a messenger message: title, body, the page."""
    parts = [note.title]
    if note.body:
        parts.append(note.body)
    if note.url:
        site = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
        parts.append(site + note.url if note.url.startswith("/") else note.url)
    return "\n".join(parts)


def deliver_note(note) -> int:
    """``cabinet.notifications`` transport: every chat of the account that
    gets this kind, one task each.  Returns how many were queued."""
    from .tasks import messenger_send  # the task module imports this one

    text = note_text(note)
    n = 0
    for binding in MessengerBinding.objects.filter(account_id=note.account_id):
        if note.kind in (binding.kinds or []):
            messenger_send.delay(binding.pk, text)
            n += 1
    return n
