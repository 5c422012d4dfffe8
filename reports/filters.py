"""Report filters (R2): parsed from the URL query string, so a report can be
bookmarked, shared and saved; shown as removable chips."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from messaging import registry
from messaging.models import Campaign, Source

# Parameters that are filters (anything else in the query string — cursor,
# htmx noise — is not kept in chips or saved filters).
FILTER_KEYS = (
    "period",
    "date_from",
    "date_to",
    "weekday",
    "channel",
    "source",
    "sender",
    "q",
    "tag",
    "status",
)
DEFAULT_PERIOD = "30"

PERIODS = (
    ("30", _("последние 30 дней")),
    ("7", _("последние 7 дней")),
    ("today", _("сегодня")),
    ("90", _("последние 90 дней")),
    ("all", _("за всё время")),
    ("custom", _("за период")),
)
WEEKDAYS = (
    ("1", _("Пн")),
    ("2", _("Вт")),
    ("3", _("Ср")),
    ("4", _("Чт")),
    ("5", _("Пт")),
    ("6", _("Сб")),
    ("7", _("Вс")),
)


def _status_choices(kind) -> list[tuple[str, str]]:
    if kind is not None:
        return [(c.code, c.title) for c in kind.columns]
    seen: dict[str, str] = {}
    for k in registry.all_channels():
        for c in k.columns:
            seen.setdefault(c.code, c.title)
    return list(seen.items())


class ReportFilterForm(forms.Form):
    """Validates the query string.  ``kind`` is the report's channel (its status
    columns are the status choices); without it (the API) every channel's
    columns are allowed and ``channel`` is a filter too."""

    period = forms.ChoiceField(
        label=_("Дата отправки"), choices=PERIODS, required=False
    )
    date_from = forms.DateField(
        label=_("с"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("по"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    weekday = forms.MultipleChoiceField(
        label=_("День недели"),
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channel = forms.ChoiceField(label=_("Канал"), required=False)
    source = forms.ChoiceField(label=_("Способ отправки"), required=False)
    sender = forms.CharField(label=_("Отправитель"), max_length=64, required=False)
    q = forms.CharField(label=_("Текст содержит"), max_length=200, required=False)
    tag = forms.CharField(label=_("Тэг"), max_length=64, required=False)
    status = forms.ChoiceField(label=_("Статус"), required=False)

    def __init__(self, data=None, *, kind=None, default_period=DEFAULT_PERIOD):
        super().__init__(data)
        self.kind = kind
        self.default_period = default_period
        # The default period is the empty choice, so it never clutters the URL.
        self.fields["period"].choices = [("", dict(PERIODS)[default_period])] + [
            (value, label) for value, label in PERIODS if value != default_period
        ]
        self.fields["source"].choices = [("", _("Любой"))] + list(Source.choices)
        self.fields["status"].choices = [("", _("Любой"))] + _status_choices(kind)
        self.fields["channel"].choices = [("", _("Любой"))] + [
            (k.code, k.label) for k in registry.all_channels()
        ]
        if kind is not None:
            del self.fields["channel"]

    def clean(self):
        data = super().clean()
        d_from, d_to = data.get("date_from"), data.get("date_to")
        if d_from and d_to and d_from > d_to:
            raise forms.ValidationError(_("Дата начала периода позже даты окончания."))
        return data

    def filters(self) -> "ReportFilters":
        """The filters to apply: valid fields only (an invalid one is reported
        by the form's errors and ignored, never half-applied)."""
        d: dict = {}
        if self.is_bound:
            self.is_valid()
            d = self.cleaned_data
        if self.non_field_errors():
            d = {k: v for k, v in d.items() if k not in ("date_from", "date_to")}
        period = d.get("period") or ""
        d_from, d_to = d.get("date_from"), d.get("date_to")
        if d_from or d_to:
            period = "custom"
        elif period in ("", "custom"):
            period = self.default_period
        start, end = _period_bounds(period, d_from, d_to)
        status = d.get("status") or ""
        statuses: tuple[str, ...] = ()
        if status:
            kinds = [self.kind] if self.kind else registry.all_channels()
            statuses = tuple(
                sorted(
                    {
                        s
                        for k in kinds
                        for c in k.columns
                        if c.code == status
                        for s in c.statuses
                    }
                )
            )
        return ReportFilters(
            period=period,
            date_from=d_from,
            date_to=d_to,
            start=start,
            end=end,
            weekdays=tuple(int(w) for w in d.get("weekday") or ()),
            channel=(self.kind.code if self.kind else d.get("channel") or ""),
            source=d.get("source") or "",
            sender=(d.get("sender") or "").strip(),
            q=(d.get("q") or "").strip(),
            tag=(d.get("tag") or "").strip(),
            status=status,
            statuses=statuses,
        )


def _period_bounds(period: str, d_from: date | None, d_to: date | None):
    """Aware [start, end) datetimes in the current time zone."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()

    def at(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min), tz)

    if period == "custom":
        return (
            at(d_from) if d_from else None,
            at(d_to + timedelta(days=1)) if d_to else None,
        )
    if period == "all":
        return None, None
    if period == "today":
        return at(today), None
    days = int(period)
    return at(today - timedelta(days=days - 1)), None


@dataclass(frozen=True)
class ReportFilters:
    period: str = DEFAULT_PERIOD
    date_from: date | None = None
    date_to: date | None = None
    start: datetime | None = None
    end: datetime | None = None
    weekdays: tuple[int, ...] = ()
    channel: str = ""
    source: str = ""
    sender: str = ""
    q: str = ""
    tag: str = ""
    status: str = ""
    statuses: tuple[str, ...] = field(default=())

    def campaign_q(self, *, dated: bool = True) -> Q:
        """Conditions on ``Campaign`` rows (``dated=False``: ignore the period,
        e.g. for deferred campaigns whose time is ahead)."""
        cond = Q()
        if dated and self.start:
            cond &= Q(created_at__gte=self.start)
        if dated and self.end:
            cond &= Q(created_at__lt=self.end)
        if self.weekdays:
            cond &= Q(created_at__iso_week_day__in=self.weekdays)
        if self.channel:
            cond &= Q(channel=self.channel)
        if self.source:
            cond &= Q(source=self.source)
        if self.sender:
            cond &= Q(sender__iexact=self.sender)
        if self.q:
            cond &= Q(text__icontains=self.q) | Q(description__icontains=self.q)
        if self.tag:
            cond &= tag_q(self.tag)
        return cond

    def message_q(self) -> Q:
        """Conditions on ``Message`` rows (the "all messages" tab)."""
        cond = Q()
        if self.start:
            cond &= Q(created_at__gte=self.start)
        if self.end:
            cond &= Q(created_at__lt=self.end)
        if self.weekdays:
            cond &= Q(created_at__iso_week_day__in=self.weekdays)
        if self.channel:
            cond &= Q(channel=self.channel)
        if self.sender:
            cond &= Q(sender__iexact=self.sender)
        if self.q:
            cond &= Q(text__icontains=self.q)
        if self.statuses:
            cond &= Q(status__in=self.statuses)
        if self.source:
            cond &= Q(campaign__source=self.source)
        if self.tag:
            cond &= Q(campaign__in=_tagged_campaigns(self.tag))
        return cond


def tag_q(tag: str) -> Q:
    """Campaigns whose ``tags`` list holds ``tag`` exactly.  PostgreSQL uses
    jsonb containment; SQLite (no JSON ``contains``) matches the stored JSON
    text of the quoted tag, which is the same test for a list of strings."""
    if connection.vendor == "postgresql":
        return Q(tags__contains=[tag])
    as_text = Campaign.objects.annotate(tags_text=Cast("tags", TextField()))
    return Q(id__in=as_text.filter(tags_text__contains=json.dumps(tag)).values("id"))


def _tagged_campaigns(tag: str):
    return Campaign.objects.filter(tag_q(tag)).values("id")


def query_string(
    params: QueryDict | dict, *, drop: tuple[str, ...] = (), **override
) -> str:
    """The filter part of a query string, minus ``drop``, with ``override``."""
    pairs: list[tuple[str, str]] = []
    for key in FILTER_KEYS:
        if key in drop or key in override:
            continue
        values = (
            params.getlist(key)
            if hasattr(params, "getlist")
            else (
                params.get(key)
                if isinstance(params.get(key), list)
                else [params[key]]
                if key in params
                else []
            )
        )
        pairs.extend((key, v) for v in values if v not in ("", None))
    for key, value in override.items():
        if value not in ("", None):
            pairs.append((key, value))
    return urlencode(pairs)


@dataclass(frozen=True)
class Chip:
    label: str
    remove_query: str


def chips(
    form: ReportFilterForm, filters: ReportFilters, params: QueryDict
) -> list[Chip]:
    """One removable chip per applied filter.  The date chip is always there
    (the default is the last 30 days); removing it shows all time."""
    result: list[Chip] = []
    label = _("Дата отправки")
    if filters.period == "custom":
        parts = []
        if filters.date_from:
            parts.append(
                str(_("с %(d)s")) % {"d": date_format(filters.date_from, "d.m.Y")}
            )
        if filters.date_to:
            parts.append(
                str(_("по %(d)s")) % {"d": date_format(filters.date_to, "d.m.Y")}
            )
        text = " ".join(parts)
    else:
        text = str(dict(PERIODS)[filters.period])
    remove = (
        query_string(params, drop=("date_from", "date_to", "period"))
        if filters.period == "all"
        else query_string(params, drop=("date_from", "date_to"), period="all")
    )
    if filters.period == "all" and form.default_period == "all":
        remove = None
    if remove is not None:
        result.append(Chip(f"{label}: {text}", remove))
    if filters.weekdays:
        names = dict(WEEKDAYS)
        days = ", ".join(str(names[str(w)]) for w in filters.weekdays)
        result.append(
            Chip(f"{_('День недели')}: {days}", query_string(params, drop=("weekday",)))
        )
    simple = (
        ("channel", _("Канал"), lambda v: _label(registry_labels(), v)),
        ("source", _("Способ отправки"), lambda v: _label(dict(Source.choices), v)),
        ("sender", _("Отправитель"), str),
        ("q", _("Текст содержит"), str),
        ("tag", _("Тэг"), str),
        ("status", _("Статус"), lambda v: _label(dict(_status_choices(form.kind)), v)),
    )
    for key, title, show in simple:
        value = getattr(filters, key)
        if key == "channel" and form.kind is not None:
            continue  # the report's own channel, not a filter
        if value:
            result.append(
                Chip(f"{title}: {show(value)}", query_string(params, drop=(key,)))
            )
    return result


def registry_labels() -> dict[str, str]:
    return {k.code: k.label for k in registry.all_channels()}


def _label(mapping, value) -> str:
    return str(mapping.get(value, value))
