"""The VK and OK channels' registry entries (SPEC K1, manual section 6): a
message from the account's group, by the recipient's phone number, through
the networks' notification services.  Their rules, as those services apply
them:

* a text of at most 2,048 characters, nothing else (no image, no button);
* a lifetime (TTL) from 1 minute to 24 hours;
* at most ``SOCIAL_DAILY_LIMIT`` messages a day from one group to one
  recipient: the rest of a send is excluded before it is priced;
* only delivered messages are charged: the launch holds the price, the
  carrier's report settles it (``charge_by_receipt``: 1 unit delivered, 0
  not) and refunds the rest;
* no shared sender: until staff approve a group (``social.models.NameRequest``)
  nothing can be sent.

Everything else — audience, stop-list, duplicates, prices, moderation, holds,
dispatch, reports — is the core's pipeline."""

from datetime import timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging import registry
from messaging.channels import CANCELLED, DEFERRED, IN_PROGRESS, MODERATION
from messaging.models import MessageStatus as S
from messaging.registry import ChannelKind, ContentError, RetryPolicy, StatusColumn

from .selectors import daily_limit_reached

MAX_TEXT = 2048
MAX_TTL = timedelta(hours=24)
CHANNELS = ("vk", "ok")


def check_message(text: str, content) -> None:
    text = text or ""
    if not text.strip():
        raise ContentError(_("Введите текст сообщения."), field="text")
    if len(text) > MAX_TEXT:
        raise ContentError(
            _("Текст длиннее %(max)s символов (сейчас %(n)s).")
            % {"max": MAX_TEXT, "n": len(text)},
            field="text",
        )


def _columns(network: str) -> tuple[StatusColumn, ...]:
    return (
        StatusColumn(
            "delivered",
            gettext_lazy("Д"),
            gettext_lazy("Доставлено"),
            (S.DELIVERED, S.VIEWED, S.CLICKED, S.UNSUBSCRIBED),
        ),
        StatusColumn(
            "viewed",
            gettext_lazy("Пр"),
            gettext_lazy("Просмотрено"),
            (S.VIEWED, S.CLICKED),
        ),
        StatusColumn(
            "clicked", gettext_lazy("Кл"), gettext_lazy("Клик по ссылке"), (S.CLICKED,)
        ),
        StatusColumn(
            "unsubscribed",
            gettext_lazy("От"),
            gettext_lazy("Абонент отписался от сообщений группы"),
            (S.UNSUBSCRIBED,),
        ),
        StatusColumn(
            "undelivered",
            gettext_lazy("Н"),
            network,
            (S.UNDELIVERED, S.FAILED, S.EXPIRED),
        ),
        MODERATION,
        CANCELLED,
        StatusColumn(
            "sent",
            gettext_lazy("Отпр"),
            gettext_lazy("Отправлено: сеть ещё не подтвердила доставку"),
            (S.SENT,),
        ),
        IN_PROGRESS,
        DEFERRED,
    )


def _entry(code: str, label, undelivered, **extra) -> ChannelKind:
    return ChannelKind(
        code=code,
        label=label,
        columns=_columns(undelivered),
        success=frozenset({S.DELIVERED, S.VIEWED, S.CLICKED, S.UNSUBSCRIBED}),
        unit=registry.Unit.MESSAGE,
        check_message=check_message,
        default_sender=lambda: "",
        own_sender_required=True,
        priced_by_operator=False,
        retry=RetryPolicy(attempts=3, interval=timedelta(minutes=1)),
        max_ttl=MAX_TTL,
        # A notification service keeps a message a day at most.
        receipt_timeout=timedelta(hours=25),
        charge_by_receipt=True,
        settle_reason="Возврат за недоставленные сообщения",
        refused=lambda account_id, sender, phones: daily_limit_reached(
            account_id=account_id, channel=code, sender=sender, phones=phones
        ),
        service_code=code,
        compose_url="social:send",
        gateway_key=code,
        sender_names_url="social:sender_names",
        **extra,
    )


VK = registry.register(
    _entry(
        "vk",
        gettext_lazy("Рассылка ВКонтакте"),
        gettext_lazy("Не доставлено (в том числе: номер не пользуется ВКонтакте)"),
        # The app's pages (send, names, messengers) and the bots' webhooks
        # hang on the VK entry; OK shares them (mounted once).
        urls="social.urls",
        url_prefix="social/",
    )
)
OK = registry.register(
    _entry(
        "ok",
        gettext_lazy("Рассылка Одноклассники"),
        gettext_lazy("Не доставлено (в том числе: номер не пользуется ОК)"),
    )
)
