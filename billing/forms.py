import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .acquirer import WALLETS
from .models import LedgerKind, Requisites
from .validators import (
    correspondent_account_is_valid,
    settlement_account_is_valid,
    validate_bic,
    validate_inn,
    validate_kpp,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AmountForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Сумма, ₽"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("10"),
        max_value=Decimal("10000000"),
        error_messages={
            "min_value": _("Минимальная сумма — 10 ₽."),
            "invalid": _("Введите сумму числом."),
        },
    )


class WalletForm(AmountForm):
    wallet = forms.ChoiceField(label=_("Кошелёк"), choices=list(WALLETS.items()))


def default_period() -> dict:
    """The last 30 days, today included."""
    today = timezone.localdate()
    return {"date_from": today - dt.timedelta(days=29), "date_to": today, "kind": []}


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("С"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("По"), required=False, widget=DATE_INPUT)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["date_to"] = data.get("date_to") or today
        data["date_from"] = data.get("date_from") or data["date_to"] - dt.timedelta(
            days=29
        )
        if data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("Начало периода позже его конца."))
        if (data["date_to"] - data["date_from"]).days > 3 * 366:
            raise forms.ValidationError(_("Период не больше трёх лет."))
        return data


class LedgerFilterForm(PeriodForm):
    kind = forms.MultipleChoiceField(
        label=_("Тип операции"),
        required=False,
        choices=LedgerKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )


class ServicesFilterForm(PeriodForm):
    group = forms.ChoiceField(
        label=_("Группировать"),
        required=False,
        choices=[("day", _("по дням")), ("month", _("по месяцам"))],
    )
    payments = forms.BooleanField(label=_("Показывать оплаты"), required=False)

    def clean(self):
        data = super().clean()
        data["group"] = data.get("group") or "day"
        return data


class ActForm(PeriodForm):
    date_from = forms.DateField(label=_("Диапазон дат: с"), widget=DATE_INPUT)
    date_to = forms.DateField(label=_("по"), widget=DATE_INPUT)


class RequisitesForm(forms.ModelForm):
    class Meta:
        model = Requisites
        fields = [
            "organisation",
            "inn",
            "kpp",
            "ogrn",
            "legal_address",
            "postal_address",
            "bank_name",
            "bic",
            "settlement_account",
            "correspondent_account",
            "director",
            "email",
        ]

    def _digits(self, name):
        return (self.cleaned_data.get(name) or "").strip().replace(" ", "")

    def clean_inn(self):
        value = self._digits("inn")
        validate_inn(value)
        return value

    def clean_kpp(self):
        value = self._digits("kpp").upper()
        if value:
            validate_kpp(value)
        return value

    def clean_ogrn(self):
        value = self._digits("ogrn")
        if value and not (value.isdigit() and len(value) in (13, 15)):
            raise forms.ValidationError(_("ОГРН — 13 цифр, ОГРНИП — 15 цифр."))
        return value

    def clean_bic(self):
        value = self._digits("bic")
        validate_bic(value)
        return value

    def clean_settlement_account(self):
        value = self._digits("settlement_account")
        if not (value.isdigit() and len(value) == 20):
            raise forms.ValidationError(_("Расчётный счёт — 20 цифр."))
        return value

    def clean_correspondent_account(self):
        value = self._digits("correspondent_account")
        if not (value.isdigit() and len(value) == 20 and value.startswith("301")):
            raise forms.ValidationError(
                _("Корреспондентский счёт — 20 цифр, начинается с 301.")
            )
        return value

    def clean(self):
        data = super().clean()
        inn, kpp, bic = data.get("inn"), data.get("kpp"), data.get("bic")
        if inn and len(inn) == 10 and not kpp and "kpp" not in self.errors:
            self.add_error("kpp", _("Для организации (ИНН из 10 цифр) КПП обязателен."))
        if bic:
            rs, ks = data.get("settlement_account"), data.get("correspondent_account")
            if rs and not settlement_account_is_valid(rs, bic):
                self.add_error(
                    "settlement_account",
                    _("Расчётный счёт не соответствует БИК (контрольный ключ)."),
                )
            if ks and not correspondent_account_is_valid(ks, bic):
                self.add_error(
                    "correspondent_account",
                    _("Корр. счёт не соответствует БИК (контрольный ключ)."),
                )
        return data


class CardForm(forms.Form):
    """The acquirer's hosted page."""

    number = forms.CharField(
        label=_("Номер карты"),
        max_length=23,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "cc-number",
                "placeholder": "0000 0000 0000 0000",
            }
        ),
    )
    exp = forms.CharField(
        label=_("Срок действия (ММ/ГГ)"),
        max_length=7,
        widget=forms.TextInput(
            attrs={"placeholder": "12/30", "autocomplete": "cc-exp"}
        ),
    )
    cvc = forms.CharField(
        label="CVC",
        max_length=4,
        widget=forms.PasswordInput(attrs={"autocomplete": "cc-csc"}),
    )
    email = forms.EmailField(label=_("Email для квитанции"), required=False)


class TariffSliderForm(forms.Form):
    balance = forms.DecimalField(
        label=_("Сумма на балансе, руб"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
