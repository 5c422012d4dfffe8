"""Reads of the voice app."""

import math
from decimal import Decimal

from django.db.models import Avg, Count, FloatField, IntegerField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from billing.models import LedgerEntry, LedgerKind
from billing.selectors import PriceList
from cabinet.formats import money
from cabinet.moderation import Decision
from messaging.models import Message, SenderName
from messaging.models import MessageStatus as S

from .models import AudioFile, CallPassword, VoiceNumber

ANSWERED = (S.SUCCESS, S.IVR, S.UNSUBSCRIBED)


def audio_for_send(*, account_id, audio_id: int) -> AudioFile | None:
    if account_id is None:
        return AudioFile.objects.filter(pk=audio_id).first()
    return AudioFile.objects.filter(account_id=account_id, pk=audio_id).first()


def audio_approved(audio_id) -> bool:
    if not audio_id:
        return False
    return AudioFile.objects.filter(pk=audio_id, status=Decision.APPROVED).exists()


def audio_get(*, account_id: int, audio_id: int) -> AudioFile:
    """``AudioFile.DoesNotExist`` for another account's audio."""
    return AudioFile.objects.get(account_id=account_id, pk=audio_id)


def audio_list(*, account_id: int, limit: int = 50) -> list[AudioFile]:
    return list(
        AudioFile.objects.filter(account_id=account_id)
        .exclude(status=Decision.REJECTED)
        .order_by("-created_at", "-id")[:limit]
    )


def federal_numbers() -> list[str]:
    return list(
        VoiceNumber.objects.filter(
            purpose=VoiceNumber.Purpose.VOICE, is_active=True
        ).values_list("number", flat=True)
    )


def pool_number(phone: str) -> bool:
    """Is ``phone`` one of the numbers we call from (any pool)?"""
    return VoiceNumber.objects.filter(number=phone).exists()


def own_numbers(*, account_id: int):
    """The account's requests for its own caller numbers, newest first
    (approved ones are its numbers; all together the history)."""
    return SenderName.objects.filter(account_id=account_id, channel="voice").order_by(
        "-created_at", "-id"
    )


def approved_callers(*, account_id: int) -> list[str]:
    """The account's own numbers staff approved: the callers it may choose
    beside the random federal number."""
    return list(
        own_numbers(account_id=account_id)
        .filter(status=Decision.APPROVED)
        .order_by("name")
        .values_list("name", flat=True)
    )


def number_taken_elsewhere(*, account_id: int, phone: str) -> bool:
    """Another account already has this number approved as its own."""
    return (
        SenderName.objects.filter(channel="voice", name=phone, status=Decision.APPROVED)
        .exclude(account_id=account_id)
        .exists()
    )


def callpassword_numbers() -> tuple[str, ...]:
    return tuple(
        VoiceNumber.objects.filter(
            purpose=VoiceNumber.Purpose.CALLPASSWORD, is_active=True
        ).values_list("number", flat=True)
    )


def callpassword_history(*, account_id: int, limit: int = 50):
    return list(
        CallPassword.objects.filter(account_id=account_id)
        .select_related("message")
        .order_by("-id")[:limit]
    )


def callpassword_get(*, account_id: int, pk: int) -> CallPassword:
    return CallPassword.objects.select_related("message").get(
        account_id=account_id, pk=pk
    )


# --- reports ------------------------------------------------------------------------


def _int_key(key: str):
    return Cast(KeyTextTransform(key, "extra"), IntegerField())


def average_listening(campaign_id: int) -> float | None:
    """The mean share of the audio answered calls listened to (percent)."""
    value = (
        Message.objects.filter(campaign_id=campaign_id, status__in=ANSWERED)
        .annotate(p=Cast(KeyTextTransform("percent", "extra"), FloatField()))
        .aggregate(avg=Avg("p"))["avg"]
    )
    return None if value is None else round(value)


def campaign_facts(campaign) -> list[tuple[str, str]]:
    avg = average_listening(campaign.pk)
    value = (
        "—" if avg is None else _("%(p)s%% от продолжительности записи") % {"p": avg}
    )
    return [(_("Средний процент прослушивания звонка"), value)]


# «Детализация» of a voice campaign: answered calls by how long they lasted.
DURATION_BUCKETS = (
    (1, 20, "До 20 сек"),
    (21, 40, "21–40 сек"),
    (41, 60, "41–60 сек"),
    (61, 120, "61–120 сек"),
    (121, None, "Более 2 мин"),
)


def duration_breakdown(campaign) -> list[tuple[str, int, Decimal]]:
    """(label, calls, cost) per duration bucket, then the calls not answered
    (their cost is what is still held or was kept)."""
    qs = Message.objects.filter(campaign_id=campaign.pk).annotate(
        secs=_int_key("seconds")
    )
    aggregates = {}
    for i, (low, high, _label) in enumerate(DURATION_BUCKETS):
        cond = Q(secs__gte=low) & (Q(secs__lte=high) if high else Q())
        aggregates[f"n{i}"] = Count("id", filter=cond)
        aggregates[f"c{i}"] = Sum("price", filter=cond & Q(refunded=False))
    missed = Q(secs__isnull=True) | Q(secs__lte=0)
    aggregates["nm"] = Count("id", filter=missed)
    aggregates["cm"] = Sum("price", filter=missed & Q(refunded=False))
    got = qs.aggregate(**aggregates)
    rows = []
    for i, (_low, _high, label) in enumerate(DURATION_BUCKETS):
        if got[f"n{i}"]:
            rows.append(
                (
                    _(label),
                    got[f"n{i}"],
                    Decimal(got[f"c{i}"] or 0).quantize(Decimal("0.01")),
                )
            )
    if got["nm"]:
        rows.append(
            (
                _("Без ответа или ещё не звонили"),
                got["nm"],
                Decimal(got["cm"] or 0).quantize(Decimal("0.01")),
            )
        )
    return rows


def call_facts(extra: dict) -> str:
    """The line under a call's status: listened share and seconds, the digit,
    the caller, each attempt."""
    if not extra:
        return ""
    parts = []
    if extra.get("percent") is not None:
        parts.append(f"{extra['percent']}%")
    if extra.get("seconds"):
        parts.append(_("%(s)s с") % {"s": extra["seconds"]})
    if extra.get("digit"):
        parts.append(_("нажата %(d)s") % {"d": extra["digit"]})
    if extra.get("caller"):
        parts.append(_("с номера %(n)s") % {"n": extra["caller"]})
    attempts = sorted(
        (int(k.split("_", 1)[1]), v)
        for k, v in extra.items()
        if k.startswith("call_") and k.split("_", 1)[1].isdigit()
    )
    if len(attempts) > 1:
        parts.append(
            "; ".join(
                _("попытка %(n)s: %(r)s") % {"n": n, "r": v.get("result", "")}
                for n, v in attempts
            )
        )
    return " · ".join(parts)


def price_line(price: Decimal) -> str:
    return money(price)


# --- speech synthesis is paid once per audio -------------------------------------


def tts_price(*, account, audio: AudioFile) -> Decimal:
    """What speaking the audio's text costs (per 100 characters, the tariff's
    «tts» line), or 0 for an upload or a synthesis already paid."""
    if audio.source != AudioFile.Source.TTS or tts_paid(audio):
        return Decimal("0")
    hundreds = math.ceil(len(audio.text) / 100)
    unit = PriceList(account=account, channel="voice", variant="tts").price("RU")
    return (unit * hundreds).quantize(Decimal("0.01"))


def tts_reference(audio: AudioFile) -> str:
    return f"voice-tts:{audio.pk}"


def tts_paid(audio: AudioFile) -> bool:
    return LedgerEntry.objects.filter(
        account_id=audio.account_id,
        kind=LedgerKind.CHARGE,
        reference=tts_reference(audio),
    ).exists()
