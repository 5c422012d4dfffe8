"""``manage.py bench dispatch --channel voice --recipients 100000``

The SMS figure first (``bench dispatch`` as it is), then the same audience
called: a voice campaign of a synthesised text through the real engine and the
fake voice carrier with calls of random length (a share not answered),
prepare → dispatch → call results applied, each call settled on its seconds
(the difference refunded) — end to end, against SMS in the same run.  Also the
speech synthesis of a 500-character text (cold, then from the cache)."""

import resource
import tempfile
import time
import uuid
from decimal import Decimal

from django.conf import settings

TEXT = (
    "Здравствуйте! Это сообщение от магазина «Ромашка». В эту субботу и воскресенье "
    "у нас большая распродажа: скидки до пятидесяти процентов на всю одежду и обувь, "
    "а также подарки каждому покупателю. Ждём вас с десяти утра до девяти вечера "
    "по адресу: улица Ленина, дом пять. Если вы хотите прослушать сообщение ещё раз, "
    "нажмите один. Чтобы отписаться от звонков, нажмите девять. Спасибо, что вы "
    "с нами, и хорошего дня! До встречи на распродаже в «Ромашке»! Приходите "
    "всей семьёй, с друзьями и коллегами. Ждём!"
)


def tts_timing() -> dict:
    from voice import audio

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-voice-")
    text = TEXT[:500]
    t0 = time.perf_counter()
    spoken = audio.synthesize(text, "espeak:ru")
    cold = time.perf_counter() - t0
    t1 = time.perf_counter()
    audio.synthesize(text, "espeak:ru")
    cached = time.perf_counter() - t1
    return {
        "tts_chars": len(text),
        "tts_seconds": round(cold, 3),
        "tts_cached_seconds": round(cached, 4),
        "audio_seconds": round(spoken.duration_ms / 1000, 1),
    }


def run_voice(*, recipients: int, batch: int, rounds: int = 1) -> dict:
    """``rounds`` alternate SMS and voice runs; the figures are the medians
    (a shared machine's load moves single runs by a factor of two)."""
    import statistics

    runs = [_one_round(recipients=recipients, batch=batch) for _ in range(rounds)]
    sms = statistics.median(r["sms"]["msgs_per_s"] for r in runs)
    voice = statistics.median(r["voice"]["msgs_per_s"] for r in runs)
    result = runs[-1]
    if rounds > 1:
        result["rounds"] = [
            {"sms": r["sms"]["msgs_per_s"], "voice": r["voice"]["msgs_per_s"]}
            for r in runs
        ]
        result["sms_msgs_per_s_median"] = sms
        result["voice_msgs_per_s_median"] = voice
    result["voice_vs_sms"] = round(voice / sms, 2) if sms else None
    return result


def _one_round(*, recipients: int, batch: int, no_answer_percent: int = 20) -> dict:
    from celery import current_app

    from cabinet.models import Account
    from cabinet.moderation import decide
    from cabinet.services import account_create
    from messaging import dispatch, prepare, registry, services
    from messaging.models import Message
    from messaging.statuses import receipts_apply
    from voice import services as voice

    from . import dispatch as base

    sms = base.run(recipients=recipients, batch=batch, text=base_text())
    speech = tts_timing()

    current_app.conf.task_always_eager = True
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "voice": {
            **settings.MESSAGING_GATEWAYS["voice"],
            "OPTIONS": {
                "mode": "manual",
                "random_listen": True,
                "no_answer_percent": no_answer_percent,
            },
        },
    }
    registry.reset_gateways()
    gateway = registry.get_gateway("voice")
    services._enqueue_prepare = lambda campaign_id: None
    prepare.enqueue_dispatch = lambda channel: None

    user = account_create(
        email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
        password=uuid.uuid4().hex,
        balance=Decimal(recipients) * Decimal("10"),
    )
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    group = base._seed(account, recipients)
    audio = voice.audio_synthesize(account=account, text=TEXT[:500], voice="espeak:ru")
    decide(item=audio, approve=True)

    t0 = time.perf_counter()
    campaign = voice.voice_launch(
        account=account,
        content=voice.content_of(audio_id=audio.pk, ivr={"1": {"action": "repeat"}}),
        group_ids=[group.pk],
    )
    prepare.campaign_prepare(campaign_id=campaign.pk)
    prepare_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    dispatch.dispatch_channel(channel="voice", limit=batch)
    dispatch_seconds = time.perf_counter() - t1

    t2 = time.perf_counter()
    pending = gateway.pending_receipts
    gateway.pending_receipts = []
    for i in range(0, len(pending), 10000):
        receipts_apply(channel="voice", receipts=pending[i : i + 10000])
    receipts_seconds = time.perf_counter() - t2
    del pending

    counters = services.campaign_counters(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    total = prepare_seconds + dispatch_seconds + receipts_seconds
    written = Message.objects.filter(campaign_id=campaign.pk).count()
    voice_rate = round(written / total) if total else None
    return {
        "channel": "voice",
        "recipients": recipients,
        "sms": sms,
        "voice": {
            "messages": written,
            "answered": counters.get("success", 0) + counters.get("ivr", 0),
            "not_answered": counters.get("undelivered", 0),
            "prepare_seconds": round(prepare_seconds, 2),
            "dispatch_seconds": round(dispatch_seconds, 2),
            "results_and_settlement_seconds": round(receipts_seconds, 2),
            "msgs_per_s": voice_rate,
            "held": campaign.options.get("held"),
            "cost_after_settlement": str(campaign.cost),
        },
        "voice_vs_sms": round(voice_rate / sms["msgs_per_s"], 2)
        if voice_rate and sms.get("msgs_per_s")
        else None,
        **speech,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def base_text() -> str:
    return "Скидка 20% на всё до воскресенья! Ждём вас."
