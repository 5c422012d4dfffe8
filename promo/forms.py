from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CODE_LENGTH_MAX, CODE_LENGTH_MIN, PromoAction


class PromoActionForm(forms.ModelForm):
    """«Создание акции»: the action's settings and optional reminders."""

    code_length = forms.TypedChoiceField(
        label=_("Длина кода"),
        coerce=int,
        initial=6,
        choices=[(n, n) for n in range(CODE_LENGTH_MIN, CODE_LENGTH_MAX + 1)],
        help_text=_(
            "Выберите число от 4 до 15. Это длина уникального кода, который "
            "будет отправляться вашим клиентам в качестве промокода."
        ),
    )

    class Meta:
        model = PromoAction
        fields = [
            "name",
            "starts_at",
            "valid_days",
            "code_length",
            "instruction",
            "reminders_enabled",
            "reminder_after_days",
            "reminder_every_days",
            "reminder_count",
            "reminder_text",
            "reminder_sender",
        ]
        labels = {"valid_days": _("Срок действия промо-кода, дней")}
        help_texts = {
            "name": _(
                "Это название будет видно только сотрудникам вашей компании, "
                "служит для того, чтобы можно было быстро различать акции "
                "друг от друга"
            ),
            "starts_at": _(
                "Если оставить пустым, то акция начнется в момент отправки промо-кода"
            ),
            "instruction": _(
                "Эта инструкция будет видна менеджеру после того, как он "
                "проверит полученный от клиента промокод и тот окажется "
                "верным. Расскажите менеджеру, что он должен выдать этому "
                "клиенту."
            ),
            "reminders_enabled": _(
                "Отправить клиентам, ещё не использовавшим свои "
                "коды, напоминания об акции."
            ),
            "reminder_after_days": _("Считается от первой отправки промокодов акции."),
            "reminder_text": _("[couponCode] заменяется промокодом получателя."),
            "reminder_sender": _("Пусто — имя отправителя по умолчанию."),
        }
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "instruction": forms.Textarea(attrs={"rows": 3}),
            "reminder_text": forms.Textarea(
                attrs={
                    "rows": 2,
                    "placeholder": _(
                        "Напоминаем: ваш промокод [couponCode] ещё действует!"
                    ),
                }
            ),
        }

    def clean(self):
        data = super().clean()
        if (
            data.get("reminders_enabled")
            and not (data.get("reminder_text") or "").strip()
        ):
            self.add_error("reminder_text", _("Введите текст напоминания."))
        return data


class PromoManagerForm(forms.Form):
    """«Добавление менеджера»."""

    name = forms.CharField(label=_("Имя менеджера"), max_length=100)
    login = forms.RegexField(
        label=_("Логин"),
        max_length=64,
        regex=r"^[A-Za-z0-9_.@-]+$",
        error_messages={"invalid": _("Логин: латинские буквы, цифры и знаки _ . @ -")},
    )
    password = forms.CharField(
        label=_("Пароль"),
        min_length=6,
        max_length=128,
        widget=forms.PasswordInput(render_value=False),
    )


class CheckLoginForm(forms.Form):
    login = forms.CharField(
        label=_("Логин:"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Пароль:"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Промокод"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "autofocus": True,
                "inputmode": "text",
            }
        ),
    )
