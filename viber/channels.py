"""The Viber channel's registry entry (SPEC B1–B3, manual section 5): its
content (an image and a button besides the text), statuses and report
columns, shared sender names and the rule on own ones (a paid monthly
package), and its price line (own or shared name × promotional or service
message).  Everything else — audience, stop-list, duplicates, pricing,
moderation, holds, dispatch — is the core's pipeline."""

from dataclasses import dataclass, field, fields
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging import registry
from messaging.channels import (
    CANCELLED,
    DEFERRED,
    IN_PROGRESS,
    MODERATION,
    UNSUBSCRIBED,
)
from messaging.models import MessageStatus as S
from messaging.moderation import matches_template
from messaging.registry import ChannelKind, ContentError, RetryPolicy, StatusColumn

from .selectors import image_exists, replies_for_reports
from .services import package_check

MAX_TEXT = 1000
MAX_BUTTON_TEXT = 30
MAX_URL = 1000
# The provider's names any account may send from free of charge (manual 5.4);
# ``MESSAGING_GATEWAYS["viber"]["SHARED_SENDERS"]`` overrides them, as they
# are names registered with the carrier.
SHARED_SENDERS = ("SMSinfo", "Akcii", "Servis-Info")

FORMAT_TEXT = "text"
FORMAT_IMAGE = "image"
FORMAT_TEXT_BUTTON = "text_button"
FORMAT_FULL = "text_image_button"
FORMATS = (
    (FORMAT_TEXT, gettext_lazy("Текст")),
    (FORMAT_IMAGE, gettext_lazy("Изображение")),
    (FORMAT_TEXT_BUTTON, gettext_lazy("Текст + Кнопка")),
    (FORMAT_FULL, gettext_lazy("Текст + Изображение + Кнопка")),
)

PROMO = "promo"
SERVICE = "service"
OWN = "own"
SHARED = "shared"
# The price lines of ``billing.models.Tariff.variant`` for Viber, and the
# monthly package of an own name.
VARIANTS = tuple(f"{who}:{what}" for who in (OWN, SHARED) for what in (PROMO, SERVICE))
PACKAGE_VARIANT = "own:package"


@dataclass(frozen=True)
class ViberContent(registry.Content):
    """Viber content besides the text: an image (the id of an upload,
    ``POST /api/v1/viber/images/``) and a button (caption and address).
    Formats: text, image, text + button, text + image + button."""

    image: str = field(
        default="",
        metadata={
            "description": "Id of an uploaded image (JPEG/PNG up to 1 MB)",
            "example": "9c1b2f7e4a5d4e0f8b6a3c2d1e0f9a8b",
        },
    )
    button_text: str = field(
        default="",
        metadata={
            "description": f"Button caption, up to {MAX_BUTTON_TEXT} characters",
            "example": "Перейти в магазин",
        },
    )
    button_url: str = field(
        default="",
        metadata={
            "description": "Where the button leads (http or https); clicks are "
            "counted through the service's short link (status Кл)",
            "example": "https://shop.example.com/sale",
        },
    )

    @classmethod
    def parse(cls, data, *, account_id=None) -> "ViberContent":
        if data is not None and not isinstance(data, dict):
            raise ContentError(_("Содержимое сообщения Viber задано неверно."))
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ContentError(
                _("Неизвестные поля содержимого: %(names)s.")
                % {"names": ", ".join(unknown)}
            )
        values = {}
        for name in known:
            value = data.get(name)
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise ContentError(
                    _("Поле «%(name)s» должно быть строкой.") % {"name": name},
                    field=name,
                )
            values[name] = value.strip()
        content = cls(**values)
        content.validate(account_id=account_id)
        return content

    def validate(self, *, account_id=None) -> None:
        if self.image:
            if not image_exists(account_id=account_id, public_id=self.image):
                raise ContentError(
                    _("Изображение не найдено: загрузите его ещё раз."), field="image"
                )
        if self.button_text and not self.button_url:
            raise ContentError(_("Укажите ссылку для кнопки."), field="button_url")
        if self.button_url and not self.button_text:
            raise ContentError(_("Введите текст кнопки."), field="button_text")
        if len(self.button_text) > MAX_BUTTON_TEXT:
            raise ContentError(
                _("Текст кнопки длиннее %(n)s символов.") % {"n": MAX_BUTTON_TEXT},
                field="button_text",
            )
        if self.button_url:
            check_url(self.button_url)

    def as_dict(self) -> dict:
        # Called for every message a carrier records: plainer than asdict().
        return {
            k: v
            for k, v in (
                ("image", self.image),
                ("button_text", self.button_text),
                ("button_url", self.button_url),
            )
            if v
        }

    @property
    def has_button(self) -> bool:
        return bool(self.button_text and self.button_url)

    def format(self, text: str) -> str:
        has_text = bool((text or "").strip())
        if self.image and self.has_button:
            return FORMAT_FULL
        if self.has_button:
            return FORMAT_TEXT_BUTTON
        if self.image and not has_text:
            return FORMAT_IMAGE
        return FORMAT_TEXT

    def links(self) -> list[str]:
        return [self.button_url] if self.button_url else []


_url_validator = URLValidator(schemes=["http", "https"])


def check_url(url: str) -> None:
    """A button's address: http(s) with a host, nothing a browser would run."""
    if len(url) > MAX_URL:
        raise ContentError(
            _("Ссылка кнопки длиннее %(n)s символов.") % {"n": MAX_URL},
            field="button_url",
        )
    if not url.lower().startswith(("http://", "https://")):
        raise ContentError(
            _("Ссылка кнопки должна начинаться с http:// или https://."),
            field="button_url",
        )
    try:
        _url_validator(url)
    except ValidationError:
        raise ContentError(
            _("Ссылка кнопки указана неверно: проверьте адрес."), field="button_url"
        ) from None


def check_message(text: str, content: ViberContent) -> None:
    """The layouts Viber delivers: text, image, text + button, text + image +
    button (text + image and image + button are not among them)."""
    text = text or ""
    has_text = bool(text.strip())
    if len(text) > MAX_TEXT:
        raise ContentError(
            _("Текст длиннее %(max)s символов (сейчас %(n)s).")
            % {"max": MAX_TEXT, "n": len(text)},
            field="text",
        )
    if content.has_button and not has_text:
        raise ContentError(
            _("Кнопка отправляется только вместе с текстом: введите текст."),
            field="text",
        )
    if content.image and has_text and not content.has_button:
        raise ContentError(
            _(
                "Изображение с текстом отправляется только вместе с кнопкой: "
                "добавьте кнопку или уберите текст."
            ),
            field="button_text",
        )
    if not has_text and not content.image:
        raise ContentError(_("Введите текст сообщения."), field="text")


def shared_senders() -> tuple[str, ...]:
    conf = settings.MESSAGING_GATEWAYS.get("viber", {})
    return tuple(conf.get("SHARED_SENDERS") or SHARED_SENDERS)


def default_sender() -> str:
    return shared_senders()[0]


def _content(content) -> ViberContent:
    if isinstance(content, ViberContent):
        return content
    return ViberContent.load(content if isinstance(content, dict) else {})


def tariff_variant(account, sender: str, text: str, content) -> str:
    """own/shared name × promotional/service message.  A service (transactional)
    message is a text alone that matches one of the account's approved Viber
    moderation templates; an image or a button makes it promotional."""
    who = SHARED if sender in shared_senders() else OWN
    plain = _content(content).format(text) == FORMAT_TEXT
    service = plain and matches_template(
        account_id=account.pk, channel="viber", text=text or ""
    )
    return f"{who}:{SERVICE if service else PROMO}"


def check_sender(account, sender: str) -> None:
    package_check(account=account, sender=sender)


def replies(account_id: int):
    return replies_for_reports(account_id=account_id)


# Report columns of the manual (5.3).  A message counts in every column it has
# reached: a seen message is delivered (Д and Пр), a click was seen (Пр, Кл).
DELIVERED = StatusColumn(
    "delivered",
    gettext_lazy("Д"),
    gettext_lazy("Доставлено"),
    (S.DELIVERED, S.VIEWED, S.CLICKED),
)
VIEWED = StatusColumn(
    "viewed", gettext_lazy("Пр"), gettext_lazy("Просмотрено"), (S.VIEWED, S.CLICKED)
)
CLICKED = StatusColumn(
    "clicked",
    gettext_lazy("Кл"),
    gettext_lazy("Клик по кнопке или ссылке"),
    (S.CLICKED,),
)
UNDELIVERED = StatusColumn(
    "undelivered",
    gettext_lazy("Н"),
    gettext_lazy("Не доставлено (в том числе: номер не пользуется Viber)"),
    (S.UNDELIVERED, S.FAILED, S.EXPIRED),
)
SENT = StatusColumn(
    "sent",
    gettext_lazy("Отпр"),
    gettext_lazy("Отправлено: Viber ещё не подтвердил доставку"),
    (S.SENT,),
)
SPAM = StatusColumn(
    "spam",
    gettext_lazy("Спам"),
    gettext_lazy("Ваше сообщение переместили в спам"),
    (S.SPAM,),
)

VIBER = registry.register(
    ChannelKind(
        code="viber",
        label=gettext_lazy("Рассылка Viber"),
        columns=(
            DELIVERED,
            VIEWED,
            CLICKED,
            UNSUBSCRIBED,
            UNDELIVERED,
            MODERATION,
            CANCELLED,
            SENT,
            IN_PROGRESS,
            DEFERRED,
            SPAM,
        ),
        success=frozenset({S.DELIVERED, S.VIEWED, S.CLICKED}),
        content=ViberContent,
        unit=registry.Unit.MESSAGE,
        default_sender=default_sender,
        shared_senders=shared_senders,
        check_sender=check_sender,
        tariff_variant=tariff_variant,
        check_message=check_message,
        priced_by_operator=False,
        retry=RetryPolicy(attempts=3, interval=timedelta(minutes=1)),
        service_code="viber",
        compose_url="viber:send",
        gateway_key="viber",
        urls="viber.urls",
        url_prefix="viber/",
        api_urls="viber.api.urls",
        content_template="viber/_content.html",
        sender_names_url="viber:sender_names",
        moderation_templates_url="viber:moderation_templates",
        replies=replies,
    )
)
