from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import phones as ph
from .models import Contact, CustomField, Group, ImportJob

MONTHS = [("", "—")] + [
    (str(i), name)
    for i, name in enumerate(
        [
            _("январь"),
            _("февраль"),
            _("март"),
            _("апрель"),
            _("май"),
            _("июнь"),
            _("июль"),
            _("август"),
            _("сентябрь"),
            _("октябрь"),
            _("ноябрь"),
            _("декабрь"),
        ],
        start=1,
    )
]


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ["name", "is_hidden", "is_stoplist"]
        labels = {
            "name": _("Название группы"),
            "is_hidden": _("Скрытая группа"),
            "is_stoplist": _("Является стоп-листом"),
        }


class ContactForm(forms.Form):
    """Add/edit a contact (C3) with the account's custom fields (C11)."""

    last_name = forms.CharField(label=_("Фамилия"), max_length=100, required=False)
    first_name = forms.CharField(label=_("Имя"), max_length=100, required=False)
    middle_name = forms.CharField(label=_("Отчество"), max_length=100, required=False)
    phone = forms.CharField(label=_("Номер телефона"), max_length=40)
    birth_date = forms.DateField(
        label=_("Дата рождения"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
    )
    gender = forms.ChoiceField(
        label=_("Пол"),
        required=False,
        choices=[("", "—")] + list(Contact.Gender.choices),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    link = forms.CharField(label=_("Ссылка"), max_length=500, required=False)
    consent = forms.BooleanField(label=_("Согласие на П/Д"), required=False)

    def __init__(self, *args, custom_fields=(), with_scope=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_fields = list(custom_fields)
        for f in self.custom_fields:
            if f.kind == CustomField.Kind.NUMBER:
                field = forms.DecimalField(label=f.name, required=False)
            elif f.kind == CustomField.Kind.DATE:
                field = forms.DateField(
                    label=f.name,
                    required=False,
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                )
            else:
                field = forms.CharField(label=f.name, max_length=500, required=False)
            self.fields[f"extra__{f.key}"] = field
        if with_scope:
            self.fields["scope"] = forms.ChoiceField(
                label=_("Где менять"),
                initial="group",
                choices=[
                    ("group", _("Менять только в этой группе")),
                    ("all", _("Менять во всех группах с этим номером")),
                ],
            )

    @classmethod
    def initial_from(cls, contact: Contact) -> dict:
        data = {
            name: getattr(contact, name)
            for name in (
                "last_name",
                "first_name",
                "middle_name",
                "phone",
                "birth_date",
                "gender",
                "email",
                "link",
                "consent",
            )
        }
        for key, value in (contact.extra or {}).items():
            data[f"extra__{key}"] = value
        return data

    def clean_phone(self):
        try:
            return ph.normalize_phone(self.cleaned_data["phone"])
        except ph.InvalidPhone as exc:
            raise forms.ValidationError(exc.reason, code=exc.code) from exc

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        extra = {}
        for f in self.custom_fields:
            value = d.pop(f"extra__{f.key}", None)
            if value not in (None, ""):
                extra[f.key] = (
                    value.isoformat() if hasattr(value, "isoformat") else str(value)
                )
        d.pop("scope", None)
        d["extra"] = extra
        return d


class ContactFilterForm(forms.Form):
    """The in-group filter (C6); ``filters()`` is the dict shape of
    docs/CONTACTS.md that audience_iter also accepts."""

    q = forms.CharField(label=_("Поиск"), required=False)
    operator = forms.CharField(label=_("Оператор"), required=False)
    region = forms.CharField(label=_("Регион"), required=False)
    gender = forms.ChoiceField(
        label=_("Пол"),
        required=False,
        choices=[
            ("", _("любой")),
            ("m", _("Мужской")),
            ("f", _("Женский")),
            ("none", _("не указан")),
        ],
    )
    age_min = forms.IntegerField(
        label=_("Возраст от"), required=False, min_value=0, max_value=150
    )
    age_max = forms.IntegerField(
        label=_("до"), required=False, min_value=0, max_value=150
    )
    birth_month = forms.TypedChoiceField(
        label=_("Месяц рождения"),
        required=False,
        choices=MONTHS,
        coerce=int,
        empty_value=None,
    )
    consent = forms.ChoiceField(
        label=_("Согласие на П/Д"),
        required=False,
        choices=[("", _("все")), ("yes", _("есть")), ("no", _("нет"))],
    )

    def __init__(self, *args, custom_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_fields = list(custom_fields)
        for f in self.custom_fields:
            self.fields[f"extra__{f.key}"] = forms.CharField(
                label=f.name, required=False
            )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        out = {}
        for name in ("q", "gender", "age_min", "age_max", "birth_month", "consent"):
            if d.get(name) not in (None, ""):
                out[name] = d[name]
        for name in ("operator", "region"):
            if d.get(name):
                out[name] = [d[name].strip()]
        extra = {
            f.key: d.get(f"extra__{f.key}")
            for f in self.custom_fields
            if d.get(f"extra__{f.key}")
        }
        if extra:
            out["extra"] = extra
        return out


class QuickAddForm(forms.Form):
    text = forms.CharField(
        label=_("Текст с номерами"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    file = forms.FileField(label=_("или файл .txt"), required=False)

    def clean(self):
        d = super().clean()
        upload = d.get("file")
        text = d.get("text") or ""
        if upload:
            if upload.size > settings.UPLOAD_MAX_BYTES:
                raise forms.ValidationError(_("Файл слишком большой."))
            raw = upload.read()
            if b"\x00" in raw[:4096]:
                raise forms.ValidationError(_("Это не текстовый файл."))
            for encoding in ("utf-8-sig", "cp1251"):
                try:
                    text += "\n" + raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
        if not text.strip():
            raise forms.ValidationError(
                _("Вставьте текст с номерами или выберите файл .txt.")
            )
        d["all_text"] = text
        return d


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Файл .xlsx, .xls или .csv"))


class ImportMappingForm(forms.Form):
    """One select per column of the preview, plus the duplicate policy."""

    has_header = forms.BooleanField(
        label=_("Первая строка — заголовки"), required=False
    )
    policy = forms.ChoiceField(
        label=_("Если номер уже есть в группе"),
        choices=ImportJob.Policy.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, job: ImportJob, columns: int, custom_fields=(), **kwargs):
        from .importer import FIELD_LABELS

        initial = kwargs.setdefault("initial", {})
        initial.setdefault("has_header", job.has_header)
        initial.setdefault("policy", job.policy)
        super().__init__(*args, **kwargs)
        choices = (
            [("", _("— не загружать —"))]
            + [(k, _(v)) for k, v in FIELD_LABELS.items()]
            + [(f"extra:{f.key}", f.name) for f in custom_fields]
        )
        self.columns = columns
        for index in range(columns):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=str(index + 1),
                choices=choices,
                required=False,
                initial=job.mapping.get(str(index), ""),
            )

    def column_fields(self):
        return [self[f"col_{i}"] for i in range(self.columns)]

    def mapping(self) -> dict:
        return {
            str(i): self.cleaned_data.get(f"col_{i}") or "" for i in range(self.columns)
        }


class CustomFieldForm(forms.Form):
    name = forms.CharField(label=_("Название поля"), max_length=100)
    key = forms.CharField(
        label=_("Команда подстановки"),
        max_length=40,
        required=False,
        help_text=_(
            "Латиницей, например card — в тексте сообщения [card]. Пусто — по названию."
        ),
    )
    kind = forms.ChoiceField(label=_("Тип"), choices=CustomField.Kind.choices)


class StopNumbersForm(forms.Form):
    text = forms.CharField(
        label=_("Номера"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Любой формат, через запятую или с новой строки"),
    )
    comment = forms.CharField(label=_("Комментарий"), max_length=200, required=False)


class CleanupUndeliveredForm(forms.Form):
    last_n = forms.IntegerField(
        label=_("Последних сообщений не доставлено"),
        min_value=1,
        max_value=50,
        initial=3,
    )
    action = forms.ChoiceField(
        label=_("Что сделать"),
        choices=[
            ("trash", _("Удалить в корзину")),
            ("move", _("Переместить в группу")),
            ("stoplist", _("Добавить в STOP-лист")),
        ],
    )
    target = forms.ModelChoiceField(
        label=_("Группа"), queryset=Group.objects.none(), required=False
    )

    def __init__(self, *args, account_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Group.objects.filter(
            account_id=account_id, deleted_at__isnull=True
        )

    def clean(self):
        d = super().clean()
        if d.get("action") == "move" and not d.get("target"):
            self.add_error("target", _("Выберите группу."))
        return d


DUPLICATE_FIELDS = [
    ("phone", _("Номер телефона")),
    ("last_name", _("Фамилия")),
    ("first_name", _("Имя")),
    ("middle_name", _("Отчество")),
    ("email", _("Email")),
    ("birth_date", _("Дата рождения")),
]


class CleanupDuplicatesForm(forms.Form):
    fields_ = forms.MultipleChoiceField(
        label=_("Совпадают поля"),
        choices=DUPLICATE_FIELDS,
        initial=["phone"],
        widget=forms.CheckboxSelectMultiple,
    )
    groups = forms.ModelMultipleChoiceField(
        label=_("Среди групп (пусто — все)"),
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, account_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = Group.objects.filter(
            account_id=account_id, deleted_at__isnull=True
        )


class GroupsChoiceForm(forms.Form):
    groups = forms.ModelMultipleChoiceField(
        label=_("Группы"),
        queryset=Group.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, account_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = Group.objects.filter(
            account_id=account_id, deleted_at__isnull=True
        )


class ExportForm(GroupsChoiceForm):
    format = forms.ChoiceField(
        label=_("Формат"),
        choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV (.csv)")],
        initial="xlsx",
        widget=forms.RadioSelect,
    )
