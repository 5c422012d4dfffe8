import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MAX_TEXT, CannedReply, Site


class SiteForm(forms.Form):
    address = forms.CharField(
        label=_("Адрес сайта"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "https://example.ru"}),
    )
    language = forms.ChoiceField(
        label=_("Язык виджета"), choices=Site.Language.choices, initial="ru"
    )


class AppearanceForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["color", "font", "size", "position", "greeting", "language"]
        widgets = {"color": forms.TextInput(attrs={"type": "color"})}

    def clean_color(self):
        color = (self.cleaned_data.get("color") or "").strip().lower()
        if not re.fullmatch(r"#[0-9a-f]{6}", color):
            raise forms.ValidationError(_("Цвет в формате #RRGGBB."))
        return color


class OperatorForm(forms.Form):
    user = forms.ChoiceField(label=_("Пользователь кабинета"))
    name = forms.CharField(
        label=_("Имя для посетителей"), max_length=60, required=False
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [
            (u.pk, f"{u.full_name} <{u.email}>" if u.full_name else u.email)
            for u in candidates
        ]


class CannedForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "maxlength": MAX_TEXT})}
