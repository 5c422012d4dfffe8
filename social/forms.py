"""Forms of the VK/OK and messenger pages.  The send form is the SMS one
(recipients, filtered group, numbers, substitutions, send later, smooth
sending, window, lifetime, tags, description, clear form) with the networks'
rules: a text of up to 2,048 characters and a lifetime up to 24 hours; no
transliteration, short links or promo codes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cabinet.models import Notification
from messaging.forms import TTL_CHOICES, ComposeForm

from .channels import MAX_TEXT

SOCIAL_TTL_CHOICES = [
    (60, _("1 минута")),
    (300, _("5 минут")),
    *TTL_CHOICES,
    (64800, _("18 часов")),
    (86400, _("24 часа")),
]


class SocialComposeForm(ComposeForm):
    """«Рассылки ВК и ОК → Отправить сообщение» (manual 6.2)."""

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
        self.fields["sender"].label = _("От группы:")
        self.fields["window"].label = _("Ограничение по времени отправки")
        self.fields["ttl"].choices = SOCIAL_TTL_CHOICES
        self.fields["ttl"].initial = 86400

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
        if not data.get("sender") and "sender" not in self.errors:
            self.add_error("sender", _("Выберите группу, от которой отправить."))
        return data


class NameRequestForm(forms.Form):
    """«Редактирование» (manual 6.1): the groups and the signed letter."""

    vk_group = forms.CharField(
        label=_("Группа VK"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "https://vk.com/myshop"}),
    )
    ok_group = forms.CharField(
        label=_("Группа ОК"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "https://ok.ru/group/12345678"}),
    )
    letter = forms.FileField(
        label=_("Подтверждающее письмо"),
        required=False,
        help_text=_("Скан или фото подписанного бланка: PDF, JPG или PNG до 5 МБ."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/jpeg,image/png"}
        ),
    )


class BindingKindsForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("Какие уведомления получать"),
        choices=Notification.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
