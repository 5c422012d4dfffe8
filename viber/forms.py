"""Forms of the Viber pages.  The send form is the SMS one (recipients, send
later, smooth sending, window, TTL, tags, description, clear form) with the
formats of manual 5.2 instead of SMS's transliteration, short links and
promo codes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from messaging.forms import ComposeForm, SenderRequestForm

from .channels import (
    FORMAT_FULL,
    FORMAT_IMAGE,
    FORMAT_TEXT,
    FORMAT_TEXT_BUTTON,
    FORMATS,
    MAX_BUTTON_TEXT,
    MAX_TEXT,
    MAX_URL,
)
from .models import SenderPackage

WITH_TEXT = (FORMAT_TEXT, FORMAT_TEXT_BUTTON, FORMAT_FULL)
WITH_IMAGE = (FORMAT_IMAGE, FORMAT_FULL)
WITH_BUTTON = (FORMAT_TEXT_BUTTON, FORMAT_FULL)


class ViberComposeForm(ComposeForm):
    """«Рассылка Viber → Отправить сообщение» (manual 5.1–5.2)."""

    text_required = False

    format = forms.ChoiceField(
        label=_("Формат сообщения"),
        choices=FORMATS,
        initial=FORMAT_TEXT,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Текст сообщения"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "placeholder": _("Введите текст сообщения"),
                "maxlength": MAX_TEXT,
            }
        ),
    )
    image_id = forms.RegexField(
        regex=r"^[0-9a-f]{32}$", required=False, widget=forms.HiddenInput
    )
    image = forms.FileField(
        label=_("Изображение"),
        required=False,
        help_text=_("JPEG или PNG до 1 МБ; лучше всего квадрат 400×400 или больше."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    button_text = forms.CharField(
        label=_("Текст кнопки"),
        max_length=MAX_BUTTON_TEXT,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Например: Подробнее")}),
    )
    button_url = forms.CharField(
        label=_("Ссылка кнопки"),
        max_length=MAX_URL,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_(
            "Нажатие пройдёт через нашу короткую ссылку и отметит сообщение "
            "статусом Кл."
        ),
    )
    replies = forms.BooleanField(label=_("Получать ответ в Online-чат"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in (
            "transliterate",
            "chat_link",
            "shorten_links",
            "promo",
            "promo_action",
        ):
            self.fields.pop(name)
        self.fields["window"].label = _("Ограничение по времени отправки")
        self.fields["ttl"].help_text = ""

    def clean_text(self):
        text = super().clean_text()
        if len(text) > MAX_TEXT:
            raise forms.ValidationError(
                _("Текст длиннее %(max)s символов (сейчас %(n)s).")
                % {"max": MAX_TEXT, "n": len(text)}
            )
        return text

    def clean(self):
        data = super().clean()
        fmt = data.get("format") or FORMAT_TEXT
        # Only what the chosen format shows is sent (a text typed before
        # switching to «Изображение» stays in the field, not in the message).
        if fmt not in WITH_TEXT:
            data["text"] = ""
        if fmt not in WITH_IMAGE:
            data["image_id"] = ""
            data["image"] = None
        if fmt not in WITH_BUTTON:
            data["button_text"] = ""
            data["button_url"] = ""
        if fmt in WITH_TEXT and not (data.get("text") or "").strip():
            self.add_error("text", _("Введите текст сообщения."))
        if fmt in WITH_BUTTON:
            if not (data.get("button_text") or "").strip():
                self.add_error("button_text", _("Введите текст кнопки."))
            if not (data.get("button_url") or "").strip():
                self.add_error("button_url", _("Укажите ссылку для кнопки."))
        if fmt in WITH_IMAGE and not data.get("image_id") and not data.get("image"):
            self.add_error("image", _("Загрузите изображение."))
        return data

    def content(self) -> dict:
        d = self.cleaned_data
        return {
            k: v
            for k, v in (
                ("image", d.get("image_id") or ""),
                ("button_text", (d.get("button_text") or "").strip()),
                ("button_url", (d.get("button_url") or "").strip()),
            )
            if v
        }


class ViberSenderRequestForm(SenderRequestForm):
    start = forms.ChoiceField(
        label=_("Начало действия пакета"),
        choices=SenderPackage.Start.choices,
        initial=SenderPackage.Start.NOW,
        widget=forms.RadioSelect,
        help_text=_(
            "Пакет действует с момента одобрения до последнего дня этого "
            "календарного месяца. Во второй половине месяца выгоднее начать со "
            "следующего месяца."
        ),
    )


class ImageUploadForm(forms.Form):
    image = forms.FileField(label=_("Изображение"))


class TariffForm(forms.Form):
    balance = forms.DecimalField(
        label=_("Сумма на балансе, руб"),
        min_value=0,
        max_value=100_000_000,
        decimal_places=2,
        required=False,
    )
    countries = forms.MultipleChoiceField(
        label=_("Страны"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["countries"].choices = list(countries)
