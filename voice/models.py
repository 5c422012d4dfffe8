"""Voice: audio (uploaded or synthesised, moderated), the pool of numbers calls
come from, and CallPassword requests.  Calls themselves are messages of the
one pipeline (``messaging.Message``, channels ``voice`` and ``callpassword``)."""

from django.db import models
from django.urls import reverse
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from cabinet.models import Account
from cabinet.moderation import Decidable, Decision, Notice


class AudioFile(Decidable):
    """One audio of an account: a file it uploaded or a text we spoke, kept as
    8 kHz mono 16-bit WAV (what a telephone line carries).  Staff listen to it
    before a campaign plays it (``cabinet.moderation``)."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Загруженный файл")
        TTS = "tts", _("Озвучка текста")

    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="audio_files",
        verbose_name=_("аккаунт"),
    )
    name = models.CharField(_("название"), max_length=200)
    source = models.CharField(
        _("источник"), max_length=8, choices=Source.choices, default=Source.UPLOAD
    )
    # The spoken text and the voice (engine:voice) of a synthesised audio.
    text = models.TextField(_("текст"), blank=True)
    voice = models.CharField(_("голос"), max_length=40, blank=True)
    # Path under MEDIA_ROOT of the telephone-ready WAV.
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    duration_ms = models.PositiveIntegerField(_("длительность, мс"))
    size = models.PositiveIntegerField(_("размер, байт"), default=0)

    class Meta:
        verbose_name = _("аудиофайл")
        verbose_name_plural = _("аудиофайлы голосовых рассылок")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"])]
        constraints = [
            # One row per account and sound: a repeated upload or synthesis of
            # the same text and voice is the same (already moderated) audio.
            models.UniqueConstraint(
                fields=["account", "sha256"], name="voice_audio_unique_sound"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def seconds(self) -> int:
        """Whole seconds a call plays (rounded up)."""
        return max(1, -(-self.duration_ms // 1000))

    def decision_notice(self) -> Notice:
        approved = self.status == Decision.APPROVED
        title = (
            _("Аудиозапись «%(name)s» одобрена")
            if approved
            else _("Аудиозапись «%(name)s» отклонена")
        ) % {"name": self.name}
        body = "" if approved else self.reason_display
        return Notice(
            title=str(title),
            body="\n".join(p for p in (body, self.comment) if p),
            url=reverse("voice:send"),
        )


class VoiceNumber(models.Model):
    """A number of the pool calls are placed from («Номера отправителя»):
    campaigns call from a random federal number; CallPassword calls from a
    number whose last four digits are the code."""

    class Purpose(models.TextChoices):
        VOICE = "voice", _("Голосовые рассылки")
        CALLPASSWORD = "callpassword", _("CallPassword")

    number = models.CharField(_("номер"), max_length=20)
    purpose = models.CharField(
        _("назначение"), max_length=16, choices=Purpose.choices, default=Purpose.VOICE
    )
    is_active = models.BooleanField(_("используется"), default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("номер отправителя")
        verbose_name_plural = _("номера отправителя (голос)")
        ordering = ["purpose", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["number", "purpose"], name="voice_number_unique"
            )
        ]

    def __str__(self):
        return self.number


class CallPassword(models.Model):
    """One CallPassword request: the integrator's id, the number called, the
    code (the last four digits of the number that calls) and the call — a
    message of the ``callpassword`` channel, with its status and price."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("аккаунт")
    )
    client_id = models.CharField(_("id клиента"), max_length=64, blank=True)
    phone = models.CharField(_("номер"), max_length=20)
    caller = models.CharField(_("звонок с номера"), max_length=20)
    code = models.CharField(_("код"), max_length=4)
    message = models.ForeignKey(
        "messaging.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    source = models.CharField(max_length=16, default="api")
    created_at = models.DateTimeField(_("создан"), default=now)
    expires_at = models.DateTimeField(_("действует до"))

    class Meta:
        verbose_name = _("запрос CallPassword")
        verbose_name_plural = _("запросы CallPassword")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["account", "-id"], name="callpassword_account_idx"),
            models.Index(fields=["phone", "created_at"], name="callpassword_phone_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_id"],
                condition=~models.Q(client_id=""),
                name="callpassword_unique_client_id",
            )
        ]

    def __str__(self):
        return f"{self.phone} {self.code}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= now()
