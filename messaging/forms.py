from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from contacts.phones import InvalidPhone, normalize_phone


class QuickSmsForm(forms.Form):
    """The minimal send form: one number, one text."""

    sender = forms.CharField(label=_("От"), max_length=11, required=False)
    phone = forms.CharField(label=_("Номер телефона"), max_length=40)
    text = forms.CharField(label=_("Текст сообщения"), widget=forms.Textarea(attrs={"rows": 5}),
                           max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"].widget.attrs["placeholder"] = settings.DEFAULT_SENDER_NAME

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.reason) from exc

    def clean_text(self):
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError(_("Введите текст сообщения."))
        return text
