"""Actions a handler runs: their forms (the channel's own send form for a
message) and how each one is carried out over a batch of subjects.

A message action launches campaigns through the one pipeline
(``messaging.services.campaign_launch``, source «Событие»), with the batch's
contacts as direct recipients — so substitutions ([Имя]…) work as in any
send — in campaigns of at most ``CAMPAIGN_CHUNK`` recipients."""

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import Group
from contacts.selectors import contact_fields
from contacts.services import contacts_copy
from integrations.services import IntegrationError, webhook_url_check
from messaging import compose as sms_compose
from messaging import senders
from messaging.forms import ComposeForm
from messaging.models import Source
from messaging.rendering import COMMAND, Renderer, custom_field_commands
from messaging.services import LaunchError, Recipient, campaign_launch
from viber import compose as viber_compose
from viber.forms import ViberComposeForm

from .models import ActionCampaign, WebhookCall

CAMPAIGN_CHUNK = 25000
WEBHOOK_SUBJECTS = 1000

LABELS = {
    "sms_contact": gettext_lazy("Рассылка смс контакту"),
    "viber_contact": gettext_lazy("Сообщение Viber контакту"),
    "sms_staff": gettext_lazy("Рассылка смс сотрудникам"),
    "webhook": gettext_lazy("Вебхук (HTTP-запрос)"),
    "group_add": gettext_lazy("Добавить контакт в группу"),
    "group_move": gettext_lazy("Перенести контакт в группу"),
}

# Fields of the send form an action keeps (the audience is the event's).
_KEEP = (
    "sender",
    "text",
    "format",
    "button_text",
    "button_url",
    "image_id",
    "transliterate",
    "shorten_links",
    "window",
    "window_from",
    "window_to",
    "window_weekdays",
    "ttl_on",
    "ttl",
    "tags",
    "description",
)


def _trim(form, keep=_KEEP) -> None:
    for name in list(form.fields):
        if name not in keep:
            form.fields.pop(name)


class SmsActionForm(ComposeForm):
    """«Рассылка смс контакту»: the SMS send form, to the event's contact."""

    send_timing = False
    needs_recipients = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _trim(self)


class ViberActionForm(ViberComposeForm):
    send_timing = False
    needs_recipients = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _trim(self)


class StaffSmsForm(ComposeForm):
    """«Рассылка смс сотрудникам»: the SMS send form to the numbers typed in."""

    send_timing = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _trim(self, _KEEP + ("phones",))
        self.fields["phones"].label = _("Номера сотрудников")
        self.fields["text"].help_text = _(
            "Подстановки ([Имя], [Телефон], [ФИО]…) — данные контакта, о котором "
            "событие; если контактов несколько, смс придёт о первом с пометкой "
            "«и ещё N»."
        )


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Адрес (URL)"),
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=gettext_lazy(
            "POST с JSON; подпись X-Signature = HMAC-SHA256(секрет, X-Timestamp "
            "+ '.' + тело)."
        ),
    )

    def clean_url(self):
        try:
            return webhook_url_check(self.cleaned_data["url"].strip())
        except IntegrationError as exc:
            raise forms.ValidationError(str(exc)) from None


class GroupForm(forms.Form):
    group = forms.TypedChoiceField(
        label=gettext_lazy("Группа"), coerce=int, empty_value=None
    )

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", _("— выберите группу —"))] + [
            (g.pk, g.name) for g in groups
        ]
        self.fields["group"].error_messages["invalid_choice"] = _("Группа не найдена.")


def _groups(account_id: int):
    return sms_compose.compose_groups(account_id=account_id)


def form_for(kind: str, *, account, data=None, initial=None, prefix=None):
    """The bound (or blank) form of an action kind."""
    kw = {"data": data, "initial": initial, "prefix": prefix}
    if kind in ("sms_contact", "sms_staff"):
        cls = SmsActionForm if kind == "sms_contact" else StaffSmsForm
        return cls(
            senders=senders.sender_choices(account_id=account.pk, channel="sms"),
            **kw,
        )
    if kind == "viber_contact":
        return ViberActionForm(
            senders=senders.sender_choices(account_id=account.pk, channel="viber"),
            **kw,
        )
    if kind == "webhook":
        return WebhookForm(**kw)
    if kind in ("group_add", "group_move"):
        return GroupForm(groups=_groups(account.pk), **kw)
    raise KeyError(kind)


def config_from_form(kind: str, form, old: dict | None = None) -> dict:
    if kind in ("sms_contact", "sms_staff"):
        return sms_compose.payload_from_form(form)
    if kind == "viber_contact":
        return viber_compose.payload_from_form(form)
    if kind == "webhook":
        old = old or {}
        return {
            "url": form.cleaned_data["url"],
            "secret": old.get("secret") or secrets.token_hex(24),
        }
    return {"group_id": form.cleaned_data["group"]}


def initial_from_config(kind: str, config: dict) -> dict:
    if kind in ("sms_contact", "sms_staff"):
        initial = sms_compose.form_initial(config)
        if kind == "sms_staff":
            initial["phones"] = "\n".join(config.get("phones") or [])
        return initial
    if kind == "viber_contact":
        return viber_compose.form_initial(config)
    if kind == "webhook":
        return {"url": config.get("url", "")}
    return {"group": config.get("group_id")}


def describe(kind: str, config: dict, groups: dict | None = None) -> str:
    """One line about a configured action, for the page and the API."""
    label = str(LABELS.get(kind, kind))
    if kind in ("sms_contact", "viber_contact", "sms_staff"):
        text = (config.get("text") or "").replace("\n", " ")
        text = text if len(text) <= 60 else text[:59] + "…"
        extra = ""
        if kind == "sms_staff":
            extra = ", ".join(config.get("phones") or []) + ": "
        return f"{label}: {extra}«{text}»"
    if kind == "webhook":
        return f"{label}: {config.get('url', '')}"
    name = (groups or {}).get(config.get("group_id"), f"#{config.get('group_id')}")
    return f"{label}: «{name}»"


# -- carrying out -------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    text: str
    cost: Decimal = Decimal("0")
    campaigns: list[int] = field(default_factory=list)
    skipped: bool = False


@dataclass
class Batch:
    """What a handler acts on in one go: the subjects of one or more events."""

    account: object
    handler: object
    kind_label: str
    subjects: list[dict]
    events: list
    depth: int
    run: object = None  # the first run of the batch, set before actions run


def _launch(batch: Batch, *, channel: str, config: dict, **audience) -> Outcome:
    kwargs = sms_compose.launch_kwargs(config)
    for key in ("group_ids", "filters", "phones"):
        kwargs.pop(key, None)
    kwargs["description"] = (
        kwargs.get("description")
        or _("Событие «%(e)s»: %(h)s")
        % {"e": batch.kind_label, "h": batch.handler.name or batch.handler.pk}
    )[:300]
    launched = []
    chunks = audience.pop("chunks", None) or [audience]
    try:
        for part in chunks:
            with transaction.atomic():
                campaign = campaign_launch(
                    account=batch.account,
                    channel=channel,
                    source=Source.EVENT,
                    content=config.get("content") or {},
                    **kwargs,
                    **part,
                )
            launched.append(campaign)
    except LaunchError as exc:
        if not launched:
            return Outcome(False, exc.message)
        ok_part = _launched_text(launched)
        return Outcome(
            False,
            f"{ok_part}; {exc.message}",
            cost=sum((c.cost for c in launched), Decimal("0")),
            campaigns=[c.pk for c in launched],
        )
    return Outcome(
        True,
        _launched_text(launched),
        cost=sum((c.cost for c in launched), Decimal("0")),
        campaigns=[c.pk for c in launched],
    )


def _launched_text(campaigns) -> str:
    ids = ", ".join(f"№{c.pk}" for c in campaigns)
    total = sum(int((c.options or {}).get("audience_estimate") or 0) for c in campaigns)
    return _("рассылка %(ids)s, получателей: %(n)s") % {"ids": ids, "n": total}


def _contact_recipients(batch: Batch) -> list[Recipient]:
    seen, out = set(), []
    for s in batch.subjects:
        phone = s.get("phone")
        if not phone or phone in seen:
            continue
        seen.add(phone)
        out.append(Recipient(phone=phone, contact_id=s.get("contact_id")))
    return out


def run_message_to_contacts(batch: Batch, config: dict, channel: str) -> Outcome:
    recipients = _contact_recipients(batch)
    if not recipients:
        return Outcome(True, _("нет получателей с номером"), skipped=True)
    chunks = [
        {"recipients": recipients[i : i + CAMPAIGN_CHUNK]}
        for i in range(0, len(recipients), CAMPAIGN_CHUNK)
    ]
    return _launch(batch, channel=channel, config=config, chunks=chunks)


def run_staff_sms(batch: Batch, config: dict) -> Outcome:
    text = staff_text(
        config.get("text") or "", batch.subjects, account_id=batch.account.pk
    )
    return _launch(
        batch,
        channel="sms",
        config={**config, "text": text},
        phones=config.get("phones"),
    )


def staff_text(text: str, subjects: list[dict], *, account_id: int) -> str:
    """«Рассылка смс сотрудникам» about the event's subject: the phonebook's
    substitutions (``[Имя]``, ``[Телефон]``, ``[ФИО]``, custom fields…) are
    the subject's — the contact added, the number a message went to or a
    reply came from — not the employee's.  A batch of several subjects (an
    import) is one SMS per employee about the first, with how many more."""
    if not subjects or not COMMAND.search(text):
        return text
    # A reply's own text is data here, not the text to send.
    first = {k: v for k, v in subjects[0].items() if k != "text"}
    # The phonebook's fields (names, custom fields) of a subject known by its
    # contact: a message's or a reply's subject carries only the id, and a
    # contact's carries its custom fields only when a condition read them.
    if first.get("contact_id"):
        first |= (
            contact_fields(account_id=account_id, contact_id=first["contact_id"]) or {}
        )
    rendered = Renderer(
        text, custom_fields=custom_field_commands(account_id=account_id)
    ).render(first)
    more = len(subjects) - 1
    if more:
        rendered += " " + _("(и ещё %(n)s)") % {"n": more}
    return rendered


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def run_webhook(batch: Batch, config: dict) -> Outcome:
    body = {
        "handler": {"id": batch.handler.pk, "name": batch.handler.name},
        "event": batch.handler.kind,
        "events": [
            {"id": e.pk, "created_at": e.created_at.isoformat(), "depth": e.depth}
            for e in batch.events
        ],
        "subjects": _json_safe(batch.subjects[:WEBHOOK_SUBJECTS]),
        "subjects_total": len(batch.subjects),
    }
    call = WebhookCall.objects.create(
        account_id=batch.account.pk, run=batch.run, url=config["url"], body=body
    )
    from . import tasks  # the task module imports services, which import this

    transaction.on_commit(lambda: tasks.events_webhook_deliver.delay(call.pk))
    return Outcome(True, _("вебхук поставлен в очередь: %(u)s") % {"u": call.url})


def run_group(batch: Batch, config: dict, move: bool) -> Outcome:
    ids = [s["contact_id"] for s in batch.subjects if s.get("contact_id")]
    target = Group.objects.filter(
        pk=config.get("group_id"), account_id=batch.account.pk, deleted_at__isnull=True
    ).first()
    if target is None:
        return Outcome(False, _("группа не найдена или удалена"))
    if not ids:
        return Outcome(True, _("нет контактов"), skipped=True)
    copied, skipped = contacts_copy(
        account_id=batch.account.pk, contact_ids=ids, target=target, move=move
    )
    verb = _("перенесено") if move else _("добавлено")
    return Outcome(
        True,
        _("%(verb)s в группу «%(g)s»: %(n)s, уже были там: %(s)s")
        % {"verb": verb, "g": target.name, "n": copied, "s": skipped},
    )


def run(kind: str, batch: Batch, config: dict) -> Outcome:
    if kind == "sms_contact":
        out = run_message_to_contacts(batch, config, "sms")
    elif kind == "viber_contact":
        out = run_message_to_contacts(batch, config, "viber")
    elif kind == "sms_staff":
        out = run_staff_sms(batch, config)
    elif kind == "webhook":
        out = run_webhook(batch, config)
    else:
        out = run_group(batch, config, move=kind == "group_move")
    if out.campaigns:
        ActionCampaign.objects.bulk_create(
            [
                ActionCampaign(
                    campaign_id=cid,
                    account_id=batch.account.pk,
                    run=batch.run,
                    depth=batch.depth + 1,
                )
                for cid in out.campaigns
            ],
            ignore_conflicts=True,
        )
    return out
