"""Forms of the voice pages.  The send form is the SMS one's recipients and
timing (``messaging.forms.ComposeForm``) plus the audio, the digit menu and
redials; the text is the one to speak."""

from django import forms
from django.utils.translation import gettext_lazy as _

from messaging.forms import ComposeForm

from .channels import IVR_ACTIONS, MAX_REDIAL_INTERVAL, MAX_REDIALS

# Fields of the SMS form a call has no use for.
NOT_FOR_CALLS = (
    "sender",
    "transliterate",
    "chat_link",
    "shorten_links",
    "promo",
    "promo_action",
    "ttl_on",
    "ttl",
)
IVR_KEYS = "1234567890*#"
ACTION_CHOICES = [("", _("— нет —")), *IVR_ACTIONS.items()]


class VoiceSendForm(ComposeForm):
    """Manual 4.1: audio or text to speak, IVR menu, redials, now or later,
    smooth sending, allowed window, tags, clear form."""

    audio_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    caller = forms.ChoiceField(
        label=_("От:"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "Номер %(value)s не подтверждён для вашего аккаунта: выберите "
                "номер из списка."
            )
        },
    )
    voice = forms.ChoiceField(label=_("Голос"), required=False)
    upload = forms.FileField(
        label=_("Аудиофайл (mp3, wav, ogg)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".mp3,.wav,.ogg,audio/*"}),
    )
    ivr = forms.BooleanField(label=_("IVR меню"), required=False)
    redial = forms.BooleanField(
        label=_("Перезванивать в случае неудачного звонка"), required=False
    )
    redial_count = forms.IntegerField(
        label=_("Количество перезвонов"),
        min_value=1,
        max_value=MAX_REDIALS,
        initial=2,
        required=False,
    )
    redial_interval = forms.IntegerField(
        label=_("Интервал, минут"),
        min_value=1,
        max_value=MAX_REDIAL_INTERVAL,
        initial=30,
        required=False,
    )

    def __init__(self, *args, groups=(), voices=(), callers=(), **kwargs):
        super().__init__(*args, senders=(), groups=groups, promo_actions=(), **kwargs)
        # The random federal number, or one of the account's own approved
        # numbers (its «own» price line).
        self.fields["caller"].choices = [
            ("", _("Случайный федеральный номер")),
            *((n, n) for n in callers),
        ]
        for name in NOT_FOR_CALLS:
            self.fields.pop(name, None)
        self.fields["text"].label = _("Текст для озвучки")
        self.fields["text"].widget.attrs["placeholder"] = _(
            "Текст, который произнесёт синтезатор речи"
        )
        self.fields["voice"].choices = [(v.code, v.label) for v in voices]
        for key in IVR_KEYS:
            self.fields[f"ivr_{key}"] = forms.ChoiceField(
                label=key, choices=ACTION_CHOICES, required=False
            )
            self.fields[f"ivr_{key}_url"] = forms.CharField(
                label=_("URL для клавиши %(k)s") % {"k": key},
                max_length=500,
                required=False,
                widget=forms.URLInput(attrs={"placeholder": "https://"}),
            )

    def ivr_rows(self):
        return [(self[f"ivr_{k}"], self[f"ivr_{k}_url"]) for k in IVR_KEYS]

    def clean(self):
        data = self.cleaned_data
        # The SMS form requires a text; a call needs an audio instead.
        if data.get("audio_id") and not (data.get("text") or "").strip():
            data["text"] = "audio"
        data = super().clean()
        if not data.get("audio_id"):
            self.add_error(
                None,
                _("Загрузите аудиофайл или озвучьте текст, затем прослушайте его."),
            )
        if data.get("redial") and (
            not data.get("redial_count") or not data.get("redial_interval")
        ):
            self.add_error(
                "redial_count", _("Укажите количество перезвонов и интервал.")
            )
        if data.get("ivr"):
            for key in IVR_KEYS:
                if data.get(f"ivr_{key}") == "url" and not data.get(f"ivr_{key}_url"):
                    self.add_error(
                        f"ivr_{key}_url",
                        _("Клавиша %(k)s: укажите URL для запроса.") % {"k": key},
                    )
        return data

    def content(self) -> dict:
        d = self.cleaned_data
        ivr = {}
        if d.get("ivr"):
            for key in IVR_KEYS:
                action = d.get(f"ivr_{key}")
                if action:
                    ivr[key] = {"action": action}
                    if action == "url":
                        ivr[key]["url"] = d.get(f"ivr_{key}_url") or ""
        redial = bool(d.get("redial"))
        return {
            "audio_id": d.get("audio_id"),
            "ivr": ivr,
            "redial_count": d.get("redial_count") or 0 if redial else 0,
            "redial_interval": d.get("redial_interval") or 0 if redial else 0,
        }


class CallPasswordTestForm(forms.Form):
    phone = forms.CharField(label=_("Номер телефона"), max_length=32)


class CallerNumberForm(forms.Form):
    number = forms.CharField(
        label=_("Ваш номер телефона"),
        max_length=32,
        help_text=_(
            "Российский номер, с которого будут идти звонки, например "
            "+7 495 123-45-67. Модератор проверит, что номер ваш."
        ),
    )
