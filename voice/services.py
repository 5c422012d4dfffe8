"""Voice: audio (upload, synthesis, moderation), voice campaigns through the one
pipeline (``messaging.services.campaign_launch``/``campaign_quote``) and
CallPassword."""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.selectors import PriceList, Rate
from contacts.phones import InvalidPhone, normalize_phone
from contacts.selectors import blocked_phones
from messaging import registry, senders
from messaging.models import Campaign, Message, SenderName, Source
from messaging.services import LaunchError, Recipient, campaign_launch, campaign_quote

from . import audio as audio_lib
from . import selectors
from .channels import FEDERAL, caller_number_rule
from .models import AudioFile, CallPassword, VoiceNumber


class VoiceError(ValueError):
    """Bad input; ``message`` is for the user, ``field`` the form field."""

    def __init__(self, message: str, *, field: str = "", code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


# --- audio ---------------------------------------------------------------------------


def _audio_row(*, account, audio: audio_lib.Telephony, **fields) -> AudioFile:
    """The account's row for this sound (one per sound: a repeated upload or
    synthesis is the same audio with the same decision)."""
    existing = AudioFile.objects.filter(account=account, sha256=audio.sha256).first()
    if existing:
        return existing
    path = audio_lib.store(audio)
    try:
        with transaction.atomic():
            return AudioFile.objects.create(
                account=account,
                path=path,
                sha256=audio.sha256,
                duration_ms=audio.duration_ms,
                size=len(audio.wav),
                **fields,
            )
    except IntegrityError:  # the same sound stored by a parallel request
        return AudioFile.objects.get(account=account, sha256=audio.sha256)


def audio_upload(*, account, upload) -> AudioFile:
    """An uploaded file → the account's audio (converted to telephone quality,
    measured, waiting for staff).  ``VoiceError`` for what is not usable audio."""
    try:
        audio = audio_lib.upload_convert(upload.chunks(), upload.name, upload.size)
    except audio_lib.AudioError as exc:
        raise VoiceError(exc.message, field="audio") from None
    name = (upload.name or "audio")[:200]
    return _audio_row(
        account=account, audio=audio, name=name, source=AudioFile.Source.UPLOAD
    )


def audio_synthesize(*, account, text: str, voice: str) -> AudioFile:
    """Speak a text (cached by voice and text) → the account's audio."""
    try:
        audio = audio_lib.synthesize(text, voice)
    except audio_lib.AudioError as exc:
        raise VoiceError(exc.message, field="tts_text") from None
    clean = audio_lib.tts_check(text)
    name = clean if len(clean) <= 60 else clean[:59] + "…"
    return _audio_row(
        account=account,
        audio=audio,
        name=name,
        source=AudioFile.Source.TTS,
        text=clean,
        voice=voice,
    )


# --- own caller numbers («Номера отправителя») ---------------------------------


def caller_number_request(*, account, number: str) -> SenderName:
    """Ask to call from the account's own number: it waits for staff (the
    sender names' queue, ``cabinet.moderation``).  ``InvalidSenderName`` in
    Russian for a number that is not valid, not Russian, one of ours, already
    requested or approved, or already another client's."""
    phone = caller_number_rule(number)
    if selectors.number_taken_elsewhere(account_id=account.pk, phone=phone):
        raise senders.InvalidSenderName(
            _("Номер %(n)s уже подтверждён у другого клиента. Напишите в поддержку.")
            % {"n": phone}
        )
    live = selectors.own_numbers(account_id=account.pk).filter(
        name=phone,
        status__in=[SenderName.Status.PENDING, SenderName.Status.APPROVED],
    )
    if live.exists():
        raise senders.InvalidSenderName(
            _("Номер %(n)s уже запрошен или одобрен.") % {"n": phone}
        )
    # The core's request (its unique index settles a double submit).
    return senders.sender_request(account=account, name=phone, channel="voice")


def caller_number_withdraw(*, account, number_id: int) -> None:
    """Withdraw a request still waiting for staff.  ``SenderName.DoesNotExist``
    for another account's id or another channel's name."""
    selectors.own_numbers(account_id=account.pk).get(pk=number_id)
    senders.sender_withdraw(account=account, sender_name_id=number_id)


def caller_check(*, account, caller: str) -> str:
    """The sender of a voice send: the random federal number (empty) or one
    of the account's own approved numbers; ``LaunchError`` in Russian for a
    number still waiting for staff, rejected, or not the account's.  The core
    asks the same of every launch (``messaging.senders.sender_validate``);
    this words it for numbers."""
    caller = (caller or "").strip()
    if not caller or caller == FEDERAL:
        return FEDERAL
    if caller in selectors.approved_callers(account_id=account.pk):
        return caller
    pending = (
        selectors.own_numbers(account_id=account.pk)
        .filter(name=caller, status=SenderName.Status.PENDING)
        .exists()
    )
    raise LaunchError(
        _("Номер %(n)s ещё на модерации: выберите другой номер или дождитесь решения.")
        % {"n": caller}
        if pending
        else _(
            "Номер %(n)s не подтверждён для вашего аккаунта. Добавьте его в разделе "
            "«Номера отправителя»."
        )
        % {"n": caller},
        code="sender_not_allowed",
        field="caller",
    )


# --- campaigns ------------------------------------------------------------------------


def campaign_text(audio: AudioFile) -> str:
    """What a voice campaign's text is in reports: the spoken text, or the
    file's name."""
    if audio.source == AudioFile.Source.TTS:
        return audio.text
    return _("Аудиофайл «%(name)s»") % {"name": audio.name}


def content_of(*, audio_id, ivr=None, redial_count=0, redial_interval=0) -> dict:
    return {
        "audio_id": audio_id,
        "ivr": ivr or {},
        "redial_count": redial_count,
        "redial_interval": redial_interval,
    }


def _audio_of(account, content: dict) -> AudioFile:
    try:
        return AudioFile.objects.get(account=account, pk=int(content.get("audio_id")))
    except (AudioFile.DoesNotExist, TypeError, ValueError):
        raise LaunchError(
            _("Загрузите аудиофайл или озвучьте текст."),
            code="invalid_content",
            field="audio_id",
        ) from None


@dataclass
class VoiceQuote:
    messages: int
    seconds: int
    calls_total: Decimal
    tts_total: Decimal
    excluded: dict
    tier: int
    # The call's price rule at that tier and line (the first 20 seconds,
    # then each second).
    rate: Rate | None = None

    @property
    def total(self) -> Decimal:
        return self.calls_total + self.tts_total


def voice_quote(
    *,
    account,
    content: dict,
    caller: str = "",
    group_ids=None,
    filters=None,
    phones=None,
    options=None,
) -> VoiceQuote:
    """The price before sending: the calls (held on the audio's whole length,
    settled on the seconds really listened) plus the synthesis of the text if
    not paid yet.  ``LaunchError`` on bad input."""
    audio = _audio_of(account, content)
    text = campaign_text(audio)
    sender = caller_check(account=account, caller=caller)
    quote = campaign_quote(
        account=account,
        channel="voice",
        text=text,
        sender=sender,
        group_ids=group_ids,
        filters=filters,
        phones=phones,
        options=options,
        content=content,
    )
    kind = registry.get_channel("voice")
    rate = kind.prices(
        account,
        sender=sender,
        text=text,
        content=kind.content.load(content),
        tier=quote.tier,
    ).rate("RU")
    return VoiceQuote(
        quote.messages,
        quote.units,
        quote.total,
        selectors.tts_price(account=account, audio=audio)
        if quote.messages
        else Decimal("0"),
        quote.excluded,
        quote.tier,
        rate,
    )


def voice_launch(
    *,
    account,
    content: dict,
    caller: str = "",
    user=None,
    group_ids=None,
    filters=None,
    phones=None,
    recipients: list[Recipient] | None = None,
    options=None,
    tags=None,
    description: str = "",
    send_at=None,
    source: str = Source.CABINET,
    client_id: str = "",
    tier: int | None = None,
    quoted_total: Decimal | None = None,
) -> Campaign:
    """Launch a voice campaign through the one pipeline: the text of the
    campaign is the audio's; the core charges the synthesis of a spoken text
    once, with the hold (``voice.channels.speech_charges``).  ``caller``: one
    of the account's own approved numbers (priced by the «own» line), else
    calls come from random federal numbers.  ``LaunchError`` with nothing
    changed on bad input, a caller number not approved for the account, or
    short funds."""
    audio = _audio_of(account, content)
    return campaign_launch(
        account=account,
        channel="voice",
        text=campaign_text(audio),
        sender=caller_check(account=account, caller=caller),
        group_ids=group_ids,
        filters=filters,
        phones=phones,
        recipients=recipients,
        content=content,
        options=options,
        tags=tags,
        description=description,
        source=source,
        created_by=user,
        send_at=send_at,
        client_id=client_id,
        tier=tier,
        quoted_total=quoted_total,
    )


# --- CallPassword ---------------------------------------------------------------------


@dataclass
class CallPasswordResult:
    id: str
    code: str
    price: Decimal
    request: CallPassword | None = None
    validated: bool = False


def _callpassword_price(account) -> Decimal:
    return PriceList(account=account, channel="callpassword").price("RU")


def _limits(account, phone: str) -> None:
    now = timezone.now()
    recent_phone = CallPassword.objects.filter(
        account=account, phone=phone, created_at__gte=now - timedelta(minutes=10)
    ).count()
    if recent_phone >= settings.CALLPASSWORD_PER_NUMBER:
        raise VoiceError(
            _("На номер %(phone)s уже звонили %(n)s раза за 10 минут: повторите позже.")
            % {"phone": phone, "n": recent_phone},
            field="recipient",
            code="rate_limited",
        )
    recent_account = CallPassword.objects.filter(
        account=account, created_at__gte=now - timedelta(minutes=1)
    ).count()
    if recent_account >= settings.CALLPASSWORD_PER_ACCOUNT:
        raise VoiceError(
            _("Слишком много звонков CallPassword в минуту: повторите позже."),
            code="rate_limited",
        )


def _pick_caller() -> str:
    numbers = list(
        VoiceNumber.objects.filter(
            purpose=VoiceNumber.Purpose.CALLPASSWORD, is_active=True
        ).values_list("number", flat=True)
    )
    if not numbers:
        raise VoiceError(
            _("Нет номеров для CallPassword: обратитесь в поддержку."),
            code="not_available",
        )
    return random.SystemRandom().choice(numbers)


def callpassword_send(
    *,
    account,
    recipient: str,
    client_id: str = "",
    validate: bool = False,
    source: str = Source.API,
    user=None,
) -> CallPasswordResult:
    """Call ``recipient`` from a pool number; the code is its last four digits.
    A repeated ``client_id`` answers the first result (no second call, no
    second charge); ``validate`` checks and prices without calling or charging.
    ``VoiceError`` (nothing charged) for a bad or stop-listed number, a rate
    limit, short funds."""
    client_id = (client_id or "").strip()[:64]
    if client_id:
        first = CallPassword.objects.filter(
            account=account, client_id=client_id
        ).first()
        if first is not None:
            return _result(first)
    try:
        phone = normalize_phone(recipient or "")
    except InvalidPhone as exc:
        raise VoiceError(
            _("Неверный номер получателя: %(why)s") % {"why": exc.reason},
            field="recipient",
            code="invalid_recipient",
        ) from None
    if account.is_blocked:
        raise VoiceError(
            _("Аккаунт заблокирован: отправка недоступна."), code="blocked"
        )
    price = _callpassword_price(account)
    if validate:
        if blocked_phones(
            account_id=account.pk, channel="callpassword", sender="", phones=[phone]
        ):
            raise VoiceError(
                _("Номер в стоп-листе."), field="recipient", code="stop_list"
            )
        _limits(account, phone)
        return CallPasswordResult(client_id, "", price, validated=True)
    _limits(account, phone)
    caller = _pick_caller()
    code = caller[-4:]
    try:
        with transaction.atomic():
            campaign = campaign_launch(
                account=account,
                channel="callpassword",
                text=f"CallPassword: код {code}",
                sender=caller,
                recipients=[Recipient(phone=phone, client_ref=client_id)],
                content={"code": code},
                source=source,
                created_by=user,
            )
            message = Message.objects.filter(campaign=campaign).first()
            row = CallPassword.objects.create(
                account=account,
                client_id=client_id,
                phone=phone,
                caller=caller,
                code=code,
                message=message,
                source=source,
                expires_at=timezone.now()
                + timedelta(seconds=settings.CALLPASSWORD_CODE_TTL),
            )
    except LaunchError as exc:
        code_ = "stop_list" if exc.code == "no_recipients" else exc.code
        message_text = (
            _("Номер в стоп-листе или отписался.")
            if exc.code == "no_recipients"
            else exc.message
        )
        raise VoiceError(message_text, field="recipient", code=code_) from None
    except IntegrityError:  # the same id racing this request
        first = CallPassword.objects.get(account=account, client_id=client_id)
        return _result(first)
    return _result(row)


def _result(row: CallPassword) -> CallPasswordResult:
    price = row.message.price if row.message else Decimal("0")
    return CallPasswordResult(
        row.client_id or str(row.pk), row.code, price, request=row
    )
