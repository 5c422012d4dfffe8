from django import forms
from django.utils.translation import gettext_lazy as _

from cabinet.models import TokenScope


class TokenForm(forms.Form):
    scope = forms.ChoiceField(choices=TokenScope.choices, widget=forms.HiddenInput)
    description = forms.CharField(
        label=_("Описание"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Например, «Сервер 1»")}),
    )
    allowed_ips = forms.CharField(
        label=_("Разрешённые IP-адреса"),
        required=False,
        max_length=2000,
        help_text=_(
            "Необязательно. По одному адресу или подсети в строке; пусто — "
            "с любого адреса."
        ),
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "203.0.113.5\n198.51.100.0/24"}
        ),
    )


class WebhookForm(forms.Form):
    url = forms.URLField(
        label=_("Адрес (URL) для уведомлений"),
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/sms-hook"}),
    )
    is_active = forms.BooleanField(
        label=_("Включить отправку уведомлений"), required=False, initial=True
    )
    send_statuses = forms.BooleanField(
        label=_("Статусы сообщений"), required=False, initial=True
    )
    send_incoming = forms.BooleanField(
        label=_("Входящие сообщения и ответы"), required=False, initial=True
    )


class ProtocolForm(forms.Form):
    login = forms.RegexField(
        label=_("Логин"),
        max_length=64,
        min_length=3,
        regex=r"^[A-Za-z0-9_.@-]+$",
        error_messages={"invalid": _("Логин: латинские буквы, цифры и знаки _ . @ -")},
    )
    password = forms.CharField(
        label=_("Пароль"),
        required=False,
        min_length=8,
        max_length=128,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Не менее 8 символов. Оставьте пустым, чтобы не менять."),
    )
    ip_restricted = forms.BooleanField(
        label=_("Протокол доступен только для некоторых IP-адресов"), required=False
    )
    allowed_ips = forms.CharField(
        label=_("IP-адреса"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("По одному адресу или подсети в строке."),
    )
