from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms import PeriodForm

from .models import Withdrawal


class WithdrawalForm(forms.Form):
    amount = forms.CharField(label=_("Сумма, ₽"), max_length=20)
    method = forms.ChoiceField(
        label=_("Способ"), choices=Withdrawal.Method.choices, initial="manual"
    )
    details = forms.CharField(
        label=_("Реквизиты для выплаты"),
        max_length=300,
        required=False,
        help_text=_("Для ручного вывода: банк, БИК, счёт или номер карты."),
    )


class ServicesForm(PeriodForm):
    pass
