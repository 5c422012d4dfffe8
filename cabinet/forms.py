from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(label=_("Email для входа"), widget=forms.EmailInput(attrs={"autofocus": True}))

    error_messages = {
        "invalid_login": _("Неверный email или пароль."),
        "inactive": _("Учётная запись отключена."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.account_id and user.account.is_blocked:
            raise forms.ValidationError(
                _("Аккаунт заблокирован. Обратитесь в техподдержку."), code="blocked"
            )


class RegistrationForm(forms.Form):
    email = forms.EmailField(label=_("Email для входа"))
    organisation = forms.CharField(label=_("Организация"), max_length=200, required=False)
    full_name = forms.CharField(label=_("Ваше имя"), max_length=200, required=False)
    phone = forms.CharField(label=_("Телефон"), max_length=30, required=False,
                            help_text=_("Для уведомлений и двойной авторизации"))
    password1 = forms.CharField(label=_("Пароль"), widget=forms.PasswordInput,
                                help_text=_("Не менее 8 символов, не только цифры"))
    password2 = forms.CharField(label=_("Пароль ещё раз"), widget=forms.PasswordInput)

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Пользователь с таким email уже зарегистрирован."))
        return email

    def clean_phone(self):
        raw = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        from contacts.phones import InvalidPhone, normalize_phone

        try:
            return normalize_phone(raw)
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.reason) from exc

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("Пароли не совпадают."))
        elif p1:
            try:
                password_validation.validate_password(p1, User(email=data.get("email", "")))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data
