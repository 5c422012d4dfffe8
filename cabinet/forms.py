from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from contacts.phones import InvalidPhone, normalize_phone

from .models import Role, User
from .net import client_ip
from .security import signin_failed, signin_limits, signin_reserve, signin_succeeded


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email для входа"), widget=forms.EmailInput(attrs={"autofocus": True})
    )

    error_messages = {
        "invalid_login": _("Неверный email или пароль."),
        "inactive": _("Учётная запись отключена."),
    }

    def clean(self):
        """Every attempt is counted per account and per address before the
        password is checked (cabinet.security); past the limit the password
        is not checked at all, so the answer says nothing about it."""
        email = self.cleaned_data.get("username")
        if not email or not self.cleaned_data.get("password"):
            return super().clean()
        ip = client_ip(self.request) if self.request is not None else None
        limits = signin_limits(step="password", who=email, ip=ip)
        refused = signin_reserve(limits)
        if refused:
            raise forms.ValidationError(refused, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            signin_failed(limits)
            raise
        signin_succeeded(limits)
        return cleaned

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.account_id and user.account.is_blocked:
            raise forms.ValidationError(
                _("Аккаунт заблокирован. Обратитесь в техподдержку."), code="blocked"
            )
        from .net import client_ip
        from .security import account_ip_allowed

        if self.request is not None and not account_ip_allowed(
            user, client_ip(self.request)
        ):
            raise forms.ValidationError(
                _(
                    "Вход в кабинет с этого IP-адреса запрещён настройками "
                    "безопасности."
                ),
                code="ip_denied",
            )


class RegistrationForm(forms.Form):
    email = forms.EmailField(label=_("Email для входа"))
    organisation = forms.CharField(
        label=_("Организация"), max_length=200, required=False
    )
    full_name = forms.CharField(label=_("Ваше имя"), max_length=200, required=False)
    phone = forms.CharField(
        label=_("Телефон"),
        max_length=30,
        required=False,
        help_text=_("Для уведомлений и двойной авторизации"),
    )
    password1 = forms.CharField(
        label=_("Пароль"),
        widget=forms.PasswordInput,
        help_text=_("Не менее 8 символов, не только цифры"),
    )
    password2 = forms.CharField(label=_("Пароль ещё раз"), widget=forms.PasswordInput)

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("Пользователь с таким email уже зарегистрирован.")
            )
        return email

    def clean_phone(self):
        raw = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
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
                password_validation.validate_password(
                    p1, User(email=data.get("email", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class LoginCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Код из SMS"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
            }
        ),
    )


class ThresholdForm(forms.Form):
    low_balance_threshold = forms.DecimalField(
        label=_("Критический баланс, ₽"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "Когда баланс опустится ниже этой суммы, придёт уведомление и письмо. "
            "Пусто — не уведомлять."
        ),
    )


class CabinetUserForm(forms.Form):
    email = forms.EmailField(label=_("Email для входа"))
    full_name = forms.CharField(label=_("Имя"), max_length=200, required=False)
    # The least surprising default: sends and manages contacts, no money or
    # settings (the owner picks a stronger role on purpose).
    role = forms.ChoiceField(
        label=_("Роль"), choices=Role.choices, initial=Role.OPERATOR
    )
    password = forms.CharField(
        label=_("Пароль"),
        widget=forms.PasswordInput,
        help_text=_("Сообщите его пользователю; он сможет сменить его."),
    )

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("Пользователь с таким email уже зарегистрирован.")
            )
        return email

    def clean(self):
        data = super().clean()
        if data.get("password"):
            try:
                password_validation.validate_password(
                    data["password"], User(email=data.get("email", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Роль"), choices=Role.choices)


class SecurityForm(forms.Form):
    two_factor = forms.BooleanField(
        label=_("Двойная авторизация: код по SMS при входе"), required=False
    )
    phone = forms.CharField(label=_("Телефон для кода"), max_length=30, required=False)
    allowed_ips = forms.CharField(
        label=_("Доступ к кабинету только с IP-адресов"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "203.0.113.7\n198.51.100.0/24"}
        ),
        help_text=_(
            "По одному адресу или сети (CIDR) в строке. Пусто — с любых адресов."
        ),
    )
    bind_session_ip = forms.BooleanField(
        label=_("Разрывать сессию при несовпадении IP-адреса"), required=False
    )

    def __init__(self, *args, can_edit_account: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_edit_account:
            del self.fields["allowed_ips"]
            del self.fields["bind_session_ip"]

    def clean_phone(self):
        raw = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        try:
            return normalize_phone(raw)
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.reason) from exc

    def clean_allowed_ips(self):
        import ipaddress

        lines = [
            x.strip()
            for x in self.cleaned_data.get("allowed_ips", "")
            .replace(",", "\n")
            .splitlines()
            if x.strip()
        ]
        for line in lines:
            try:
                ipaddress.ip_network(line, strict=False)
            except ValueError as exc:
                raise forms.ValidationError(
                    _("«%(v)s» — не IP-адрес и не сеть.") % {"v": line}
                ) from exc
        return "\n".join(lines)

    def clean(self):
        data = super().clean()
        if data.get("two_factor") and not data.get("phone"):
            self.add_error("phone", _("Укажите телефон, на который придёт код."))
        return data


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Тема"), max_length=200)
    body = forms.CharField(
        label=_("Ваш вопрос"), max_length=10000, widget=forms.Textarea
    )


class TicketReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Сообщение"), max_length=10000, widget=forms.Textarea
    )
