"""Forms of the SMS pages.  The compose form's field → campaign mapping lives
in ``messaging.compose``."""

import json
import re
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.phones import InvalidPhone, normalize_phone

from .compose import FILTER_FIELDS
from .scheduling import MONTH_NAMES, WEEKDAY_NAMES, InvalidRule, Rule, zone

MAX_TEXT = 2000
MAX_PASTED = 10000

TIME_ZONES = [
    ("Europe/Kaliningrad", _("Калининград (UTC+2)")),
    ("Europe/Moscow", _("Москва (UTC+3)")),
    ("Europe/Samara", _("Самара (UTC+4)")),
    ("Asia/Yekaterinburg", _("Екатеринбург (UTC+5)")),
    ("Asia/Omsk", _("Омск (UTC+6)")),
    ("Asia/Novosibirsk", _("Новосибирск (UTC+7)")),
    ("Asia/Krasnoyarsk", _("Красноярск (UTC+7)")),
    ("Asia/Irkutsk", _("Иркутск (UTC+8)")),
    ("Asia/Yakutsk", _("Якутск (UTC+9)")),
    ("Asia/Vladivostok", _("Владивосток (UTC+10)")),
    ("Asia/Magadan", _("Магадан (UTC+11)")),
    ("Asia/Kamchatka", _("Камчатка (UTC+12)")),
]
TTL_CHOICES = [
    (900, _("15 минут")),
    (1800, _("30 минут")),
    (3600, _("1 час")),
    (7200, _("2 часа")),
    (10800, _("3 часа")),
    (14400, _("4 часа")),
    (21600, _("6 часов")),
    (28800, _("8 часов")),
    (36000, _("10 часов")),
    (43200, _("12 часов")),
]
WEEKDAY_CHOICES = [(i + 1, name) for i, name in enumerate(WEEKDAY_NAMES)]
WEEKDAY_SHORT = [
    (1, _("Пн")),
    (2, _("Вт")),
    (3, _("Ср")),
    (4, _("Чт")),
    (5, _("Пт")),
    (6, _("Сб")),
    (7, _("Вс")),
]
MONTH_CHOICES = [(i + 1, name) for i, name in enumerate(MONTH_NAMES)]


def parse_phones(raw: str) -> tuple[list[str], list[str]]:
    """Pasted numbers, one per line (commas and semicolons work too):
    (E.164 numbers in order without duplicates, lines that are not numbers)."""
    good: list[str] = []
    bad: list[str] = []
    seen: set[str] = set()
    for line in re.split(r"[\n\r,;]+", raw or ""):
        line = line.strip()
        if not line:
            continue
        try:
            phone = normalize_phone(line)
        except InvalidPhone:
            bad.append(line)
            continue
        if phone not in seen:
            seen.add(phone)
            good.append(phone)
    return good, bad


class ComposeForm(forms.Form):
    """The SMS send form of the manual (section 2.1)."""

    sender = forms.ChoiceField(label=_("От:"), required=False)
    text = forms.CharField(
        label=_("Текст сообщения"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": _("Введите текст сообщения")}
        ),
    )
    groups = forms.MultipleChoiceField(
        label=_("Группы"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    filters = forms.CharField(required=False, widget=forms.HiddenInput)
    # "Отфильтрованная группа": the phonebook's filter (C6) on the chosen groups.
    f_gender = forms.ChoiceField(
        label=_("Пол"),
        required=False,
        choices=[("", _("любой")), ("m", _("мужской")), ("f", _("женский"))],
    )
    f_age_min = forms.IntegerField(
        label=_("Возраст от"), min_value=0, max_value=120, required=False
    )
    f_age_max = forms.IntegerField(
        label=_("Возраст до"), min_value=0, max_value=120, required=False
    )
    f_birth_month = forms.TypedChoiceField(
        label=_("Месяц рождения"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("любой"))] + [(i + 1, m) for i, m in enumerate(MONTH_NAMES)],
    )
    f_operator = forms.CharField(label=_("Оператор"), max_length=64, required=False)
    f_region = forms.CharField(label=_("Регион"), max_length=100, required=False)
    f_consent = forms.ChoiceField(
        label=_("Согласие на П/Д"),
        required=False,
        choices=[("", _("не важно")), ("yes", _("есть")), ("no", _("нет"))],
    )
    phones = forms.CharField(
        label=_("Номера телефонов"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": _("Введите телефоны через Enter")}
        ),
    )

    send_later = forms.BooleanField(label=_("Отправить позже"), required=False)
    send_date = forms.DateField(
        label=_("Дата"),
        required=False,
        # An <input type="date"> takes only ISO dates, whatever the language.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    send_time = forms.TimeField(
        label=_("Время"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    send_tz = forms.ChoiceField(
        label=_("Часовой пояс"),
        choices=TIME_ZONES,
        initial="Europe/Moscow",
        required=False,
    )

    smooth = forms.BooleanField(label=_("Плавная отправка"), required=False)
    smooth_portions = forms.IntegerField(
        label=_("Число порций"), min_value=2, max_value=1000, initial=4, required=False
    )
    smooth_interval = forms.IntegerField(
        label=_("Интервал между порциями, минут"),
        min_value=1,
        max_value=1440,
        initial=30,
        required=False,
    )

    window = forms.BooleanField(label=_("Разрешенное время отправки"), required=False)
    window_from = forms.TimeField(
        label=_("С"),
        initial=time(9, 0),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    window_to = forms.TimeField(
        label=_("До"),
        initial=time(21, 0),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    window_weekdays = forms.TypedMultipleChoiceField(
        label=_("Дни недели"),
        choices=WEEKDAY_SHORT,
        coerce=int,
        required=False,
        initial=[1, 2, 3, 4, 5, 6, 7],
        widget=forms.CheckboxSelectMultiple,
    )

    ttl_on = forms.BooleanField(label=_("Время жизни сообщения"), required=False)
    ttl = forms.TypedChoiceField(
        label=_("Время жизни"),
        choices=TTL_CHOICES,
        coerce=int,
        initial=43200,
        required=False,
    )

    transliterate = forms.BooleanField(label=_("Транслитерация СМС"), required=False)
    chat_link = forms.BooleanField(
        label=_("Получать ответ в Online-чат"), required=False
    )
    shorten_links = forms.BooleanField(label=_("Сокращать ссылки"), required=False)
    promo = forms.BooleanField(label=_("Сгенерировать промокод"), required=False)
    promo_action = forms.TypedChoiceField(
        label=_("Выберите промо-акцию"), coerce=int, required=False, empty_value=None
    )
    clear_form = forms.BooleanField(
        label=_("Очистить форму после отправки"), required=False
    )
    tags = forms.CharField(
        label=_("Тэги"),
        max_length=300,
        required=False,
        help_text=_("Через запятую: по тэгу отчёты фильтруются в один клик."),
    )
    description = forms.CharField(label=_("Описание"), max_length=300, required=False)
    # One random token per opened form: a double submit (or a resubmitted POST)
    # launches the campaign once (the engine's ``client_id``).
    submit_token = forms.RegexField(
        regex=r"^[0-9a-f]{32}$", required=False, widget=forms.HiddenInput
    )

    # Which parts a subclass needs: the scheduler and greetings have their own
    # timing and no "send later" / "clear form".
    needs_recipients = True
    send_timing = True
    # A channel whose message may be an image alone checks its text itself.
    text_required = True

    def __init__(self, *args, senders=(), groups=(), promo_actions=(), **kwargs):
        data = args[0] if args else kwargs.get("data")
        if data is not None and data.get("phone") and not data.get("phones"):
            # A single number (S2) posted as ``phone`` (links, old bookmarks).
            data = data.copy()
            data["phones"] = data["phone"]
            args = (data, *args[1:]) if args else args
            kwargs = kwargs if args else {**kwargs, "data": data}
        super().__init__(*args, **kwargs)
        self.fields["sender"].choices = [(s, s) for s in senders]
        self.fields["groups"].choices = [(str(g.pk), g.name) for g in groups]
        self.fields["promo_action"].choices = [("", _("— выберите акцию —"))] + [
            (a.pk, a.name) for a in promo_actions
        ]
        if not self.send_timing:
            for name in (
                "send_later",
                "send_date",
                "send_time",
                "send_tz",
                "clear_form",
            ):
                self.fields.pop(name)

    # -- cleaning ---------------------------------------------------------------

    def clean_text(self):
        text = self.cleaned_data.get("text") or ""
        return text.replace("\r\n", "\n")

    def clean_filters(self):
        raw = (self.cleaned_data.get("filters") or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("Фильтр группы задан неверно.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Фильтр группы задан неверно."))
        return value

    def clean_phones(self):
        good, bad = parse_phones(self.cleaned_data.get("phones") or "")
        if bad:
            shown = ", ".join(bad[:5]) + ("…" if len(bad) > 5 else "")
            raise forms.ValidationError(
                _(
                    "Не похоже на номер телефона: %(list)s. "
                    "Исправьте или удалите эти строки."
                )
                % {"list": shown}
            )
        if len(good) > MAX_PASTED:
            raise forms.ValidationError(
                _(
                    "Не более %(n)s номеров за раз: для больших списков "
                    "загрузите группу в телефонную книгу."
                )
                % {"n": MAX_PASTED}
            )
        return good

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if self.text_required and not data.get("text", "").strip():
            self.add_error("text", _("Введите текст сообщения."))
        if self.needs_recipients and not data.get("groups") and not data.get("phones"):
            self.add_error(
                "phones",
                _("Добавьте получателей: выберите группу или введите телефоны."),
            )
        data["filters"] = self._merged_filters(data)
        if (
            data.get("f_age_min") is not None
            and data.get("f_age_max") is not None
            and data["f_age_min"] > data["f_age_max"]
        ):
            self.add_error("f_age_max", _("«Возраст до» меньше, чем «от»."))
        if data.get("filters") and not data.get("groups"):
            self.add_error("groups", _("Фильтр применяется к группе: выберите её."))
        if self.send_timing and data.get("send_later"):
            self._clean_send_at(data)
        if data.get("smooth"):
            if not data.get("smooth_portions") or not data.get("smooth_interval"):
                self.add_error(
                    "smooth_portions",
                    _("Укажите число порций и интервал плавной отправки."),
                )
        if data.get("window"):
            if not data.get("window_from") or not data.get("window_to"):
                self.add_error("window_from", _("Укажите разрешенное время: с и до."))
            elif data["window_from"] == data["window_to"]:
                self.add_error(
                    "window_to", _("Начало и конец разрешенного времени совпадают.")
                )
            if not data.get("window_weekdays"):
                self.add_error(
                    "window_weekdays", _("Выберите хотя бы один день недели.")
                )
        if data.get("ttl_on") and not data.get("ttl"):
            self.add_error(
                "ttl", _("Выберите время жизни сообщения (не более 12 часов).")
            )
        if data.get("promo"):
            if not data.get("promo_action"):
                self.add_error("promo_action", _("Выберите промо-акцию."))
            elif "[couponcode]" not in data.get("text", "").lower():
                self.add_error(
                    "text",
                    _(
                        "Добавьте в текст [couponCode] — на его место "
                        "подставится промокод."
                    ),
                )
        return data

    FILTER_FIELDS = FILTER_FIELDS

    def _merged_filters(self, data) -> dict:
        """The filter from the phonebook (hidden ``filters``) with the fields of
        the form's own filter on top."""
        filters = dict(data.get("filters") or {})
        for name, key in self.FILTER_FIELDS.items():
            value = data.get(name)
            if isinstance(value, str):
                value = value.strip()
            if value in (None, ""):
                continue
            filters[key] = value
        return filters

    def _clean_send_at(self, data):
        if not data.get("send_date") or not data.get("send_time"):
            self.add_error("send_date", _("Укажите дату и время отправки."))
            return
        tz = zone(data.get("send_tz") or "Europe/Moscow")
        at = datetime.combine(data["send_date"], data["send_time"], tzinfo=tz)
        now = timezone.now()
        if at <= now:
            self.add_error("send_time", _("Время отправки уже прошло."))
        elif at > now + timedelta(days=366):
            self.add_error(
                "send_date",
                _("Отправку можно запланировать не более чем на год вперед."),
            )
        else:
            data["send_at"] = at

    # -- helpers ------------------------------------------------------------------

    def tag_list(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        tags = [t.strip().lstrip("#") for t in re.split(r"[,;\n]+", raw)]
        return list(dict.fromkeys(t[:50] for t in tags if t))[:20]


class TemplateSaveForm(forms.Form):
    """ "Сохранение шаблона": update an old one or create a new one."""

    mode = forms.ChoiceField(
        choices=[
            ("new", _("Создать новый шаблон")),
            ("update", _("Обновить старый шаблон")),
        ],
        initial="new",
        widget=forms.RadioSelect,
    )
    template_name = forms.CharField(
        label=_("Название шаблона"), max_length=100, required=False
    )
    template_id = forms.TypedChoiceField(
        label=_("Шаблон"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_id"].choices = [("", "—")] + [
            (t.pk, t.name) for t in templates
        ]

    def clean(self):
        data = super().clean()
        if data.get("mode") == "update" and not data.get("template_id"):
            self.add_error("template_id", _("Выберите шаблон, который нужно обновить."))
        if data.get("mode") == "new" and not (data.get("template_name") or "").strip():
            self.add_error("template_name", _("Введите название шаблона."))
        return data


class TemplateRenameForm(forms.Form):
    name = forms.CharField(label=_("Название шаблона"), max_length=100)
    text = forms.CharField(
        label=_("Текст"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SenderRequestForm(forms.Form):
    name = forms.CharField(
        label=_("Имя отправителя"),
        max_length=40,
        help_text=_(
            "До 11 символов: буквы латинского алфавита, цифры и знаки препинания."
        ),
    )

    def clean_name(self):
        from .senders import InvalidSenderName, name_check

        try:
            return name_check(self.cleaned_data["name"])
        except InvalidSenderName as exc:
            raise forms.ValidationError(exc.message) from exc


class ModerationTemplateForm(forms.Form):
    text = forms.CharField(
        label=_("Текст смс"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Поле [любая фраза] можно использовать как переменную, если нужны, к "
            "примеру, смс пароли для входа на сайт."
        ),
    )


class ScheduleForm(ComposeForm):
    """The scheduler's form: the send form with months × days × weekdays × hours
    × minutes instead of "send later"."""

    send_timing = False

    name = forms.CharField(label=_("Название"), max_length=200, required=False)
    months = forms.TypedMultipleChoiceField(
        label=_("Месяц"),
        choices=MONTH_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.TypedMultipleChoiceField(
        label=_("Дни месяца"),
        choices=[(d, f"{d:02d}") for d in range(1, 32)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Дни недели"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    hours = forms.TypedMultipleChoiceField(
        label=_("Часы"),
        choices=[(h, f"{h:02d}") for h in range(24)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    minutes = forms.TypedMultipleChoiceField(
        label=_("Минуты"),
        choices=[(m, f"{m:02d}") for m in range(0, 60, 5)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    timezone = forms.ChoiceField(
        label=_("Часовой пояс"), choices=TIME_ZONES, initial="Europe/Moscow"
    )

    def clean(self):
        data = super().clean()
        if not data.get("minutes"):
            self.add_error("minutes", _("Выберите минуты отправки (например, 00)."))
            return data
        if not data.get("hours"):
            self.add_error("hours", _("Выберите часы отправки."))
            return data
        try:
            data["rule"] = Rule.build(
                months=data.get("months"),
                days=data.get("days"),
                weekdays=data.get("weekdays"),
                hours=data.get("hours"),
                minutes=data["minutes"],
            )
        except InvalidRule as exc:
            self.add_error(None, exc.message)
        return data


class GreetingForm(ComposeForm):
    """Greetings and notifications: the send form plus "Повод для рассылки", the
    date field and the time of day."""

    send_timing = False
    needs_recipients = False

    occasion = forms.CharField(
        label=_("Повод для рассылки"),
        max_length=200,
        help_text=_("Например: «День рождения»."),
    )
    date_field = forms.ChoiceField(label=_("Дата из поля контакта"))
    greet_time = forms.TimeField(
        label=_("Время отправки"),
        initial=time(10, 0),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    timezone = forms.ChoiceField(
        label=_("Часовой пояс"), choices=TIME_ZONES, initial="Europe/Moscow"
    )

    def __init__(self, *args, date_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Greetings go to contacts (they carry the dates), not to bare numbers.
        self.fields.pop("phones")
        self.fields["date_field"].choices = [("birth_date", _("Дата рождения"))] + [
            (f.key, f.name) for f in date_fields
        ]

    def clean(self):
        data = super().clean()
        if not data.get("groups") and "groups" not in self.errors:
            self.add_error(
                "groups",
                _("Поздравления отправляются контактам групп: выберите группу."),
            )
        return data


class AdvertisingForm(forms.Form):
    cities = forms.CharField(label=_("Города"), max_length=300)
    volume = forms.IntegerField(
        label=_("Объем рассылки, смс"),
        min_value=2500,
        max_value=10_000_000,
        initial=2500,
        help_text=_("Не менее 2 500 смс за 1 день по 1 городу."),
    )
    text = forms.CharField(
        label=_("Текст рассылки или повод"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Можно указать только повод — мы поможем составить текст."),
    )
    targeting = forms.CharField(
        label=_("Критерии отбора аудитории"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Город, район, сумма платежа на мобильную связь, автомобилисты, офисные "
            "сотрудники, пол и возраст."
        ),
    )
    sender = forms.CharField(label=_("Имя отправителя"), max_length=11, required=False)
    contact = forms.CharField(label=_("Контактный телефон или email"), max_length=200)

    def clean_sender(self):
        from .senders import InvalidSenderName, name_check

        value = self.cleaned_data.get("sender") or ""
        if not value:
            return ""
        try:
            return name_check(value)
        except InvalidSenderName as exc:
            raise forms.ValidationError(exc.message) from exc
