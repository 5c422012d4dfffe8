"""The voice channels' registry entries (``messaging.registry``): voice
campaigns (a call that plays an audio, billed by the second) and CallPassword
(a call from a number whose last four digits are the code, billed per call)."""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cabinet.moderation import Decision, Notice
from cabinet.urlcheck import UnsafeUrl, public_url_check
from contacts.phones import InvalidPhone, normalize_phone
from messaging.channels import CANCELLED, MODERATION, UNSUBSCRIBED
from messaging.models import MessageStatus as S
from messaging.moderation import needs_moderation
from messaging.registry import (
    ChannelKind,
    Content,
    ContentError,
    LaunchCharge,
    RetryPolicy,
    StatusColumn,
    Unit,
    register,
)
from messaging.senders import InvalidSenderName

from . import selectors

# What a campaign's sender is: a random number of the federal pool (manual
# 4.4: «Отправка на данный момент доступна только от случайных федеральных
# номеров»), or the client's own number once staff approved it (a sender name
# of the voice channel, ``messaging.SenderName``).  The number each call came
# from is on the message (extra.caller).
FEDERAL = "Федеральный номер"
MAX_REDIALS = 5
MAX_REDIAL_INTERVAL = 24 * 60  # minutes
IVR_ACTIONS = {
    "repeat": gettext_lazy("Повторить сообщение"),
    "url": gettext_lazy("Запрос на URL"),
    "unsubscribe": gettext_lazy("Отписаться от рассылки"),
    "end": gettext_lazy("Завершить звонок"),
}
DIGITS = "0123456789*#"


def _int(value, *, name: str, low: int, high: int, field_name: str) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        raise ContentError(
            _("%(name)s: введите целое число.") % {"name": name}, field=field_name
        ) from None
    if not low <= number <= high:
        raise ContentError(
            _("%(name)s: от %(low)s до %(high)s.")
            % {"name": name, "low": low, "high": high},
            field=field_name,
        )
    return number


@dataclass(frozen=True)
class VoiceContent(Content):
    """A call: the audio it plays (``audio_id``, an approved or pending audio
    of the account), the digit menu (``ivr``: digit → ``{"action": "repeat" |
    "url" | "unsubscribe" | "end", "url": …}``) and redials after a failed
    call (``redial_count`` times, ``redial_interval`` minutes apart).
    ``audio``, ``duration`` and ``audio_name`` are filled from the audio
    itself at launch (never taken from the request)."""

    audio_id: int = field(
        default=0,
        metadata={
            "description": "Аудиозапись аккаунта (загружена или озвучена в кабинете)",
            "example": 12,
        },
    )
    ivr: dict = field(
        default_factory=dict,
        metadata={
            "description": "Меню IVR: клавиша → {action: repeat | url | unsubscribe | "
            "end, url}",
            "example": {"1": {"action": "repeat"}, "9": {"action": "unsubscribe"}},
        },
    )
    redial_count: int = field(
        default=0, metadata={"description": "Перезвонов после неудачного звонка (0–5)"}
    )
    redial_interval: int = field(
        default=0, metadata={"description": "Интервал перезвона, минут"}
    )
    audio: str = field(default="", metadata={"description": "Заполняется сервисом"})
    audio_name: str = field(
        default="", metadata={"description": "Заполняется сервисом"}
    )
    duration: int = field(
        default=0,
        metadata={"description": "Длительность записи, с (заполняется сервисом)"},
    )

    @classmethod
    def parse(cls, data, *, account_id=None) -> "VoiceContent":
        data = {
            k: v
            for k, v in dict(data or {}).items()
            if k not in ("audio", "duration", "audio_name")
        }
        content = super().parse(data, account_id=account_id)
        if not content.audio_id:
            raise ContentError(
                _("Загрузите аудиофайл или озвучьте текст."), field="audio_id"
            )
        try:
            audio_id = int(content.audio_id)
        except (TypeError, ValueError):
            raise ContentError(_("Аудиозапись не найдена."), field="audio_id") from None
        audio = selectors.audio_for_send(account_id=account_id, audio_id=audio_id)
        if audio is None:
            raise ContentError(_("Аудиозапись не найдена."), field="audio_id")
        if audio.status == Decision.REJECTED:
            raise ContentError(
                _("Аудиозапись «%(name)s» отклонена модератором: %(why)s")
                % {"name": audio.name, "why": audio.reason_display or "—"},
                field="audio_id",
            )
        ivr = parse_ivr(content.ivr)
        count = _int(
            content.redial_count,
            name=_("Количество перезвонов"),
            low=0,
            high=MAX_REDIALS,
            field_name="redial_count",
        )
        interval = _int(
            content.redial_interval,
            name=_("Интервал перезвона, минут"),
            low=1 if count else 0,
            high=MAX_REDIAL_INTERVAL,
            field_name="redial_interval",
        )
        return cls(
            audio_id=audio.pk,
            ivr=ivr,
            redial_count=count,
            redial_interval=interval if count else 0,
            audio=audio.path,
            audio_name=audio.name,
            duration=audio.seconds,
        )

    @property
    def repeats(self) -> bool:
        return any(v.get("action") == "repeat" for v in self.ivr.values())


def parse_ivr(menu) -> dict:
    """The digit menu, cleaned; ``ContentError`` names what is wrong."""
    if not menu:
        return {}
    if not isinstance(menu, dict):
        raise ContentError(_("Меню IVR: ожидается список клавиш."), field="ivr")
    out = {}
    for digit, item in menu.items():
        digit = str(digit).strip()
        if digit not in DIGITS or len(digit) != 1:
            raise ContentError(
                _("Меню IVR: «%(d)s» — не клавиша телефона (0–9, *, #).")
                % {"d": digit},
                field="ivr",
            )
        if isinstance(item, str):
            item = {"action": item}
        if not isinstance(item, dict) or item.get("action") not in IVR_ACTIONS:
            raise ContentError(
                _("Меню IVR, клавиша %(d)s: выберите действие.") % {"d": digit},
                field="ivr",
            )
        action = item["action"]
        entry = {"action": action}
        if action == "url":
            try:
                entry["url"] = public_url_check(item.get("url") or "")
            except UnsafeUrl as exc:
                raise ContentError(
                    _("Меню IVR, клавиша %(d)s: %(why)s")
                    % {"d": digit, "why": exc.message},
                    field="ivr",
                ) from None
        out[digit] = entry
    return out


def call_units(text: str, content: Content) -> int:
    """Seconds held at launch: the whole audio (twice when a digit repeats
    it).  The call is settled on the seconds it really lasted (the receipt's
    units; none for an unanswered call), priced by the tariff's rule
    (``billing.selectors.Rate.cost``: the first 20 seconds at their own price
    whatever of them was used, then each second)."""
    seconds = max(1, getattr(content, "duration", 0) or 0)
    if getattr(content, "repeats", False):
        seconds *= 2
    return seconds


def caller_number_rule(number: str) -> str:
    """A number a client asks to call from: a valid Russian number (E.164),
    not one of ours (the federal or CallPassword pool).  ``InvalidSenderName``
    in Russian otherwise."""
    raw = (number or "").strip()
    if not raw:
        raise InvalidSenderName(_("Введите номер телефона."))
    try:
        phone = normalize_phone(raw)
    except InvalidPhone as exc:
        raise InvalidSenderName(
            _("Неверный номер «%(n)s»: %(why)s") % {"n": raw, "why": exc.reason}
        ) from None
    if not phone.startswith("+7"):
        raise InvalidSenderName(
            _("Звонить можно только с российского номера (+7…).")
        )
    if selectors.pool_number(phone):
        raise InvalidSenderName(
            _("Номер %(n)s — из наших номеров отправителя, а не ваш.") % {"n": phone}
        )
    return phone


def caller_number_notice(row) -> Notice:
    """The client's notification about the decision on its number."""
    if row.status == Decision.APPROVED:
        title = _("Номер отправителя %(n)s одобрен") % {"n": row.name}
        body = _("Теперь его можно выбрать в поле «От:» голосовой рассылки.")
    else:
        title = _("Номер отправителя %(n)s отклонён") % {"n": row.name}
        body = row.reason_display + (f". {row.comment}" if row.comment else "")
    return Notice(
        title=str(title), body=str(body), kind="sender", url=reverse("voice:numbers")
    )


def call_variant(account, sender: str, text: str, content: Content) -> str:
    """The price line: a call from a federal number or the client's own."""
    return "federal" if sender == FEDERAL else "own"


# What a call's message carries of the campaign's text (reports' «Сообщение»).
CALL_TEXT_MAX = 60


def call_text(text: str, content: Content) -> str:
    """A call plays its audio: its message carries a label of it — the
    campaign's text when short, else the audio's name (a spoken text's first
    words) — not a copy of a spoken text of up to 2,000 characters on each of
    a campaign's calls.  The whole text stays on the campaign and the audio."""
    if len(text) <= CALL_TEXT_MAX:
        return text
    name = getattr(content, "audio_name", "") or ""
    if name and len(name) <= CALL_TEXT_MAX:
        return name
    return text[: CALL_TEXT_MAX - 1].rstrip() + "…"


def voice_moderate(account, text: str, content: Content) -> bool:
    """A campaign waits for staff while its audio is not approved yet, or for
    the text rules of every channel (new accounts, risky texts)."""
    if not selectors.audio_approved(getattr(content, "audio_id", None)):
        return True
    return needs_moderation(account=account, channel="voice", text=text)


def speech_charges(account, content: Content) -> list[LaunchCharge]:
    """A spoken text is paid per 100 characters, once per audio: at the first
    launch that plays it, whichever way it is launched."""
    audio = selectors.audio_for_send(
        account_id=account.pk, audio_id=getattr(content, "audio_id", 0)
    )
    if audio is None:
        return []
    price = selectors.tts_price(account=account, audio=audio)
    if not price:
        return []
    return [
        LaunchCharge(
            amount=price,
            reason=f"Синтез речи: {len(audio.text)} символов",
            reference=selectors.tts_reference(audio),
        )
    ]


SUCCESS = StatusColumn(
    "success", gettext_lazy("Усп"), gettext_lazy("Успешный вызов"), (S.SUCCESS,)
)
IVR = StatusColumn(
    "ivr",
    gettext_lazy("IVR"),
    gettext_lazy("Клиент воспользовался кнопками набора в тоновом режиме"),
    (S.IVR,),
)
UNDELIVERED = StatusColumn(
    "undelivered",
    gettext_lazy("Н"),
    gettext_lazy("Не доставлено: не ответил, занято или недоступен"),
    (S.UNDELIVERED, S.FAILED, S.EXPIRED),
)
SENT = StatusColumn(
    "sent",
    gettext_lazy("Отпр"),
    gettext_lazy("Отправлено: звонок в очереди или идёт"),
    (S.SENT, S.QUEUED, S.SENDING),
)
DEFERRED = StatusColumn(
    "deferred",
    gettext_lazy("Отл"),
    gettext_lazy("Отложено (в том числе ждёт перезвона)"),
    (S.DEFERRED,),
)

VOICE = register(
    ChannelKind(
        code="voice",
        label=gettext_lazy("Голосовая рассылка"),
        columns=(
            SUCCESS,
            IVR,
            UNSUBSCRIBED,
            UNDELIVERED,
            MODERATION,
            CANCELLED,
            SENT,
            DEFERRED,
        ),
        success=frozenset({S.SUCCESS, S.IVR, S.UNSUBSCRIBED}),
        content=VoiceContent,
        unit=Unit.SECONDS,
        count_units=call_units,
        message_text=call_text,
        launch_charges=speech_charges,
        default_sender=lambda: FEDERAL,
        shared_senders=lambda: (FEDERAL,),
        # The client's own numbers: requested on «Номера отправителя» and
        # approved by staff like sender names (``messaging.senders``).
        sender_name_rule=caller_number_rule,
        sender_notice=caller_number_notice,
        sender_names_url="voice:numbers",
        tariff_variant=call_variant,
        # A trunk that refuses a call for now (congestion) is tried again.
        retry=RetryPolicy(attempts=3 + MAX_REDIALS * 2, interval=timedelta(minutes=1)),
        # A call ends within minutes: a result missing after two hours never comes.
        receipt_timeout=timedelta(hours=2),
        moderate=voice_moderate,
        report_facts=lambda campaign: selectors.campaign_facts(campaign),
        report_breakdown=lambda campaign: selectors.duration_breakdown(campaign),
        message_facts=lambda extra: selectors.call_facts(extra),
        # One price for the country, by the number's kind (own / federal).
        priced_by_operator=False,
        service_code="voice",
        compose_url="voice:send",
        gateway_key="voice",
        urls="voice.urls",
        url_prefix="voice/",
        # REST v1: CallPassword (mounted under /api/v1/ by cabinet/urls.py).
        api_urls="voice.api.urls",
    )
)


# --- CallPassword ----------------------------------------------------------------

CODE_RE = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class CallPasswordContent(Content):
    """A code call: the four digits the recipient reads from the caller's
    number (the sender, chosen from the CallPassword pool)."""

    code: str = ""

    @classmethod
    def parse(cls, data, *, account_id=None) -> "CallPasswordContent":
        content = super().parse(data, account_id=account_id)
        if not CODE_RE.match(content.code or ""):
            raise ContentError(_("Код — четыре цифры."), field="code")
        return content


CALLPASSWORD = register(
    ChannelKind(
        code="callpassword",
        label=gettext_lazy("CallPassword"),
        columns=(
            StatusColumn(
                "success",
                gettext_lazy("Усп"),
                gettext_lazy("Звонок с кодом прошёл"),
                (S.SUCCESS,),
            ),
            UNDELIVERED,
            CANCELLED,
            SENT,
        ),
        success=frozenset({S.SUCCESS}),
        content=CallPasswordContent,
        unit=Unit.MESSAGE,
        default_sender=lambda: "",
        shared_senders=selectors.callpassword_numbers,
        retry=RetryPolicy(attempts=2, interval=timedelta(seconds=5)),
        receipt_timeout=timedelta(minutes=30),
        moderate=lambda account, text, content: False,
        message_facts=lambda extra: selectors.call_facts(extra),
        priced_by_operator=False,
        service_code="callpassword",
        compose_url="voice:callpassword",
        gateway_key="voice",
    )
)
