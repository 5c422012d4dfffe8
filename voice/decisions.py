"""Staff decisions on audio (``cabinet.moderation``).  A voice campaign whose
audio is not approved yet waits in moderation; the decision on the audio
decides those campaigns too (approved: they go out at their planned time;
rejected: cancelled and refunded, with the audio's reason)."""

from django.utils.translation import gettext_lazy as _

from cabinet import moderation as decisions
from messaging.decisions import campaign_decide
from messaging.models import Campaign

from .models import AudioFile


def audio_decision_apply(audio: AudioFile) -> None:
    waiting = Campaign.objects.filter(
        channel="voice",
        status=Campaign.Status.MODERATION,
        account_id=audio.account_id,
        content__audio_id=audio.pk,
    ).order_by("id")
    approved = audio.status == decisions.Decision.APPROVED
    for campaign in waiting:
        campaign_decide(
            campaign=campaign,
            approve=approved,
            reason_text=""
            if approved
            else f"Аудиозапись отклонена: {audio.reason_display}"[:300],
            comment=audio.comment,
            staff_user=audio.decided_by,
        )


def audio_decide(
    *, audio: AudioFile, approve: bool, reason_text: str = "", staff_user=None
) -> AudioFile:
    return decisions.decide(
        item=audio, approve=approve, reason_text=reason_text, staff_user=staff_user
    ).item


def register_queues() -> None:
    decisions.register_queue(
        model=AudioFile,
        label=_("Аудиозаписи голосовых рассылок"),
        apply=audio_decision_apply,
    )
