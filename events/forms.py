"""The handler page's own fields (the actions' forms are in actions.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .kinds import OPS

CONDITION_ROWS = 3


class HandlerForm(forms.Form):
    name = forms.CharField(label=_("Название"), max_length=200, required=False)
    group = forms.ChoiceField(label=_("Только для группы"), required=False)
    threshold = forms.CharField(label=_("Порог баланса, ₽"), required=False)
    date_field = forms.ChoiceField(label=_("Дата из поля контакта"), required=False)
    at = forms.TimeField(
        label=_("Время (по часовому поясу контакта)"),
        required=False,
        initial="10:00",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    is_active = forms.BooleanField(label=_("Активно"), required=False, initial=True)
    max_runs_per_hour = forms.IntegerField(
        label=_("Ограничитель: запусков в час, не более"),
        min_value=1,
        max_value=100000,
        initial=1000,
        required=False,
        help_text=_("Больше запусков за час — обработчик выключится сам."),
    )

    def __init__(self, *args, kind, groups=(), date_fields=(), fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["group"].choices = [("", _("любая группа"))] + [
            (str(g.pk), g.name) for g in groups
        ]
        self.fields["date_field"].choices = [("birth_date", _("Дата рождения"))] + [
            (f.key, f.name) for f in date_fields
        ]
        if not kind.contact_fields:
            self.fields.pop("group")
        if "threshold" not in kind.settings:
            self.fields.pop("threshold")
        if "date_field" not in kind.settings:
            self.fields.pop("date_field")
            self.fields.pop("at")
        choices = [("", _("— поле —"))] + [
            (f.key, f.label) for f in fields if f.type != "group"
        ]
        for i in range(CONDITION_ROWS):
            self.fields[f"c{i}_field"] = forms.ChoiceField(
                label=_("Поле"), choices=choices, required=False
            )
            self.fields[f"c{i}_op"] = forms.ChoiceField(
                label=_("Сравнение"), choices=list(OPS.items()), required=False
            )
            self.fields[f"c{i}_value"] = forms.CharField(
                label=_("Значение"),
                max_length=200,
                required=False,
                widget=forms.TextInput(attrs={"list": "condition-values"}),
            )
        # Suggestions for the value: every choice field's labels.
        self.value_suggestions = sorted(
            {
                str(label)
                for f in fields
                if f.type == "choice"
                for _c, label in f.choices
            }
        )

    def condition_rows(self):
        return [
            (self[f"c{i}_field"], self[f"c{i}_op"], self[f"c{i}_value"])
            for i in range(CONDITION_ROWS)
        ]

    def conditions(self) -> list[dict]:
        d = self.cleaned_data
        out = []
        if d.get("group"):
            out.append({"field": "group", "op": "eq", "value": d["group"]})
        for i in range(CONDITION_ROWS):
            if d.get(f"c{i}_field") or d.get(f"c{i}_value"):
                out.append(
                    {
                        "field": d.get(f"c{i}_field") or "",
                        "op": d.get(f"c{i}_op") or "eq",
                        "value": d.get(f"c{i}_value") or "",
                    }
                )
        return out

    def settings(self) -> dict:
        d = self.cleaned_data
        out = {}
        if "threshold" in self.fields:
            out["threshold"] = d.get("threshold") or ""
        if "date_field" in self.fields:
            out["date_field"] = d.get("date_field") or "birth_date"
            out["at"] = d["at"].strftime("%H:%M") if d.get("at") else ""
        return out

    @staticmethod
    def initial_for(handler) -> dict:
        initial = {
            "name": handler.name,
            "is_active": handler.is_active,
            "max_runs_per_hour": handler.max_runs_per_hour,
        }
        rows = []
        for c in handler.conditions or []:
            if c["field"] == "group" and c["op"] == "eq" and "group" not in initial:
                initial["group"] = c["value"]
            else:
                rows.append(c)
        for i, c in enumerate(rows[:CONDITION_ROWS]):
            initial[f"c{i}_field"] = c["field"]
            initial[f"c{i}_op"] = c["op"]
            initial[f"c{i}_value"] = c["value"]
        s = handler.settings or {}
        initial.update({k: v for k, v in s.items() if k in ("threshold", "date_field")})
        if s.get("at"):
            initial["at"] = s["at"]
        return initial
