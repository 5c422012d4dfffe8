from django import forms
from django.utils.translation import gettext_lazy as _


class SaveFilterForm(forms.Form):
    name = forms.CharField(label=_("Название фильтра"), max_length=100)


class RecipientsExportForm(forms.Form):
    """R6 "Выгрузить абонентов": which recipients, and where to."""

    WHICH = (("delivered", _("Доставленные")), ("undelivered", _("Недоставленные")))
    TARGET = (
        ("group", _("Выгрузить в телефонную книгу")),
        ("excel", _("Выгрузить в Excel")),
    )
    GROUP_MODE = (("existing", _("Существующая группа")), ("new", _("Новая группа")))

    which = forms.ChoiceField(
        label=_("Абоненты"),
        choices=WHICH,
        widget=forms.RadioSelect,
        initial="delivered",
    )
    target = forms.ChoiceField(
        label=_("Куда"), choices=TARGET, widget=forms.RadioSelect, initial="group"
    )
    group_mode = forms.ChoiceField(
        label=_("Группа"),
        choices=GROUP_MODE,
        widget=forms.RadioSelect,
        initial="existing",
        required=False,
    )
    group = forms.TypedChoiceField(
        label=_("Существующая группа"), coerce=int, required=False, empty_value=None
    )
    new_group_name = forms.CharField(
        label=_("Введите название новой группы"), max_length=200, required=False
    )
    remove_from_other_groups = forms.BooleanField(
        label=_("Удалить эти контакты из остальных групп телефонной книги"),
        required=False,
    )

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", "—")] + [(g.pk, g.name) for g in groups]

    def clean(self):
        data = super().clean()
        if data.get("target") == "group":
            mode = data.get("group_mode") or "existing"
            if mode == "existing" and not data.get("group"):
                self.add_error("group", _("Выберите группу."))
            if mode == "new" and not (data.get("new_group_name") or "").strip():
                self.add_error("new_group_name", _("Введите название новой группы."))
        return data
