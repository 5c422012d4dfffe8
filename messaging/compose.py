"""The send form's logic: form ↔ campaign arguments ("payload"), the price and
per-recipient preview before sending, templates (S6) and repeats (R5).

A *payload* is the JSON-serialisable set of ``campaign_launch`` arguments the
form produces: ``text, sender, group_ids, filters, phones, options, tags,
description``.  Templates, schedules and greetings store payloads; a repeat
builds one from a campaign; the form is prefilled from one.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cabinet.models import Notification
from cabinet.notifications import notify
from contacts.models import Group
from contacts.selectors import audience_iter, audience_missing, custom_fields
from contacts.translit import counting_table

from . import senders, substitutions
from .models import Campaign, MessageTemplate, Source
from .rendering import (
    COUPON,
    custom_field_commands,
    has_greeting,
    preview_renderer,
    substituted_fields,
)
from .sms_text import count_sms

PAYLOAD_KEYS = (
    "text",
    "sender",
    "group_ids",
    "filters",
    "phones",
    "options",
    "tags",
    "description",
    # A channel's content (Viber's image and button); none for SMS.
    "content",
)
OPTION_FLAGS = ("transliterate", "shorten_links", "chat_link")
# Form field → key of the contacts filter dict (the form's own group filter).
FILTER_FIELDS = {
    "f_gender": "gender",
    "f_age_min": "age_min",
    "f_age_max": "age_max",
    "f_birth_month": "birth_month",
    "f_operator": "operator",
    "f_region": "region",
    "f_consent": "consent",
}


# --- what the form offers ------------------------------------------------------


def compose_groups(*, account_id: int) -> list[Group]:
    """Groups a campaign can go to: live, not stop-lists, hidden ones last."""
    return list(
        Group.objects.filter(
            account_id=account_id, deleted_at__isnull=True, is_stoplist=False
        ).order_by("is_hidden", "name", "id")
    )


def compose_promo_actions(*, account_id: int) -> list:
    """The «Промо-акция» picker: the choices of whichever app provides
    ``[couponCode]`` (promo, through ``messaging.substitutions``); none when no
    app does."""
    coupon = substitutions.get(COUPON)
    if coupon is None or coupon.choices is None:
        return []
    return list(coupon.choices(account_id))


def compose_custom_fields(*, account_id: int) -> list:
    return list(custom_fields(account_id=account_id))


def form_kwargs(*, account) -> dict:
    """Per-account choices of the compose form."""
    return {
        "senders": senders.sender_choices(account_id=account.pk),
        "groups": compose_groups(account_id=account.pk),
        "promo_actions": compose_promo_actions(account_id=account.pk),
    }


# --- form ↔ payload ------------------------------------------------------------


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def payload_from_form(form) -> dict:
    d = form.cleaned_data
    options: dict = {}
    if d.get("smooth"):
        options["smooth"] = {
            "portions": d["smooth_portions"],
            "interval_minutes": d["smooth_interval"],
        }
    if d.get("ttl_on") and d.get("ttl"):
        options["ttl"] = int(d["ttl"])
    if d.get("window"):
        options["window"] = {
            "from": _hhmm(d["window_from"]),
            "to": _hhmm(d["window_to"]),
            "weekdays": sorted(int(w) for w in d["window_weekdays"]),
        }
    for flag in OPTION_FLAGS:
        if d.get(flag):
            options[flag] = True
    if d.get("promo") and d.get("promo_action"):
        options["promo_action"] = int(d["promo_action"])
    return {
        "text": d.get("text", ""),
        "sender": d.get("sender") or "",
        "group_ids": sorted(int(g) for g in d.get("groups") or []),
        "filters": d.get("filters") or {},
        "phones": list(d.get("phones") or []),
        "options": options,
        "tags": form.tag_list(),
        "description": d.get("description") or "",
    }


def launch_kwargs(payload: dict) -> dict:
    """``campaign_launch`` keyword arguments of a stored payload."""
    return {
        "text": payload.get("text") or "",
        "sender": payload.get("sender") or "",
        "group_ids": list(payload.get("group_ids") or []) or None,
        "filters": dict(payload.get("filters") or {}) or None,
        "phones": list(payload.get("phones") or []) or None,
        "options": dict(payload.get("options") or {}),
        "tags": list(payload.get("tags") or []),
        "description": payload.get("description") or "",
    }


def form_initial(payload: dict) -> dict:
    """The compose form's initial data for a payload (template, repeat…)."""

    options = payload.get("options") or {}
    filters = dict(payload.get("filters") or {})
    own = {}
    for name, key in FILTER_FIELDS.items():
        if key in filters and isinstance(filters[key], str | int):
            own[name] = filters.pop(key)
    initial = {
        **own,
        "text": payload.get("text") or "",
        "sender": payload.get("sender") or "",
        "groups": [str(g) for g in payload.get("group_ids") or []],
        "filters": json.dumps(filters, ensure_ascii=False) if filters else "",
        "phones": "\n".join(payload.get("phones") or []),
        "tags": ", ".join(payload.get("tags") or []),
        "description": payload.get("description") or "",
    }
    for flag in OPTION_FLAGS:
        initial[flag] = bool(options.get(flag))
    smooth = options.get("smooth")
    if smooth:
        initial.update(
            smooth=True,
            smooth_portions=smooth.get("portions"),
            smooth_interval=smooth.get("interval_minutes"),
        )
    if options.get("ttl"):
        initial.update(ttl_on=True, ttl=int(options["ttl"]))
    window = options.get("window")
    if window:
        initial.update(
            window=True,
            window_from=window.get("from"),
            window_to=window.get("to"),
            window_weekdays=window.get("weekdays") or [],
        )
    if options.get("promo_action"):
        initial.update(promo=True, promo_action=options["promo_action"])
    return initial


def payload_from_campaign(campaign: Campaign) -> dict:
    audience = campaign.audience or {}
    options = {
        k: v
        for k, v in (campaign.options or {}).items()
        if k in ("smooth", "ttl", "window", "promo_action", *OPTION_FLAGS)
    }
    return {
        "text": campaign.text,
        "sender": campaign.sender,
        "group_ids": list(audience.get("group_ids") or []),
        "filters": audience.get("filters") or {},
        "phones": list(audience.get("phones") or []),
        "options": options,
        "tags": list(campaign.tags or []),
        "description": campaign.description,
    }


# --- send ------------------------------------------------------------------------


QUOTE_SALT = "messaging.compose.quote"
# How long a shown price holds (its tariff tier included).
QUOTE_MAX_AGE = 3600


def _payload_digest(payload: dict) -> str:
    """What decides the price of a send: its text, sender, audience, options."""
    priced = {
        k: payload.get(k)
        for k in (
            "text",
            "sender",
            "group_ids",
            "filters",
            "phones",
            "options",
            "content",  # a channel's content may change the price line (Viber)
        )
    }
    raw = json.dumps(priced, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def quote_token(*, account, payload: dict, quote) -> str:
    """The price shown for a payload, signed: the form sends it back with the
    send, so the campaign is charged at the tier the user saw and never more
    than the figure shown."""
    return signing.dumps(
        {
            "a": account.pk,
            "t": quote.tier,
            "p": str(quote.total),
            "d": _payload_digest(payload),
        },
        salt=QUOTE_SALT,
    )


def shown_quote(*, account, payload: dict, token: str) -> tuple[int, Decimal] | None:
    """(tier, total) of a valid token for this account and payload, else None
    (no estimate was shown, it expired, or the form changed since)."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=QUOTE_SALT, max_age=QUOTE_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("a") != account.pk or data.get("d") != _payload_digest(payload):
        return None
    return int(data["t"]), Decimal(data["p"])


def compose_launch(*, account, user, form, quote_token: str = "") -> Campaign:
    """Launch the form's campaign (``LaunchError`` from the engine, nothing
    changed).  When the form carries the price it was shown (``quote_token``),
    the campaign is priced at that tier and refused if it would cost more."""
    from .services import campaign_launch

    payload = payload_from_form(form)
    token = form.cleaned_data.get("submit_token") or ""
    shown = shown_quote(account=account, payload=payload, token=quote_token)
    return campaign_launch(
        account=account,
        channel="sms",
        source=Source.CABINET,
        created_by=user,
        send_at=form.cleaned_data.get("send_at"),
        client_id=f"form:{token}" if token else "",
        tier=shown[0] if shown else None,
        quoted_total=shown[1] if shown else None,
        **launch_kwargs(payload),
    )


def compose_quote(*, account, payload: dict):
    """The engine's price quote for a payload (``LaunchError`` on bad input)."""
    from .services import campaign_quote

    kw = launch_kwargs(payload)
    return campaign_quote(
        account=account,
        channel="sms",
        text=kw["text"],
        sender=kw["sender"],
        group_ids=kw["group_ids"],
        filters=kw["filters"],
        phones=kw["phones"],
        options=kw["options"],
    )


@dataclass
class PreviewRow:
    phone: str
    name: str
    text: str
    encoding: str
    parts: int
    chars: int


def preview_recipients(*, account, payload: dict, limit: int = 3) -> list[dict]:
    """The first few recipients as the engine will see them: pasted numbers
    first, then contacts of the chosen groups (filtered)."""
    allow_duplicates = bool((payload.get("options") or {}).get("allow_duplicates"))
    rows: list[dict] = []
    seen: set[str] = set()

    def add(row: dict) -> None:
        # As the engine does: a number already taken is dropped (pasted numbers
        # come first, so their text is the one sent).
        if allow_duplicates or row.get("phone") not in seen:
            seen.add(row.get("phone"))
            rows.append(row)

    for phone in payload.get("phones") or []:
        if len(rows) >= limit:
            break
        add({"phone": phone})
    group_ids = payload.get("group_ids") or []
    if len(rows) < limit and group_ids:
        # A few small chunks at most: enough to pass over repeated numbers
        # without reading a large group.
        for chunks_read, chunk in enumerate(
            audience_iter(
                account_id=account.pk,
                group_ids=group_ids,
                filters=payload.get("filters") or None,
                chunk_size=limit * 4,
            )
        ):
            for row in chunk:
                add(row)
            if len(rows) >= limit or chunks_read >= 2:
                break
    return rows[:limit]


def compose_preview(*, account, payload: dict, limit: int = 3) -> list[PreviewRow]:
    """Each of the first recipients' text, rendered as it will be sent (short
    links and promo codes as samples of their real length)."""
    renderer = preview_renderer(
        account=account,
        text=payload.get("text") or "",
        options=payload.get("options") or {},
    )
    result = []
    for fields in preview_recipients(account=account, payload=payload, limit=limit):
        text = renderer.render(fields, None)
        count = count_sms(text)
        name = " ".join(
            p for p in (fields.get("last_name"), fields.get("first_name")) if p
        )
        result.append(
            PreviewRow(
                fields.get("phone", ""),
                name,
                text,
                count.encoding,
                count.parts,
                count.chars,
            )
        )
    return result


@dataclass
class MissingField:
    """A substitution some recipients have no value for: ``command`` as written
    in the text (``[Имя]``), ``count`` recipients without it."""

    command: str
    count: int


@dataclass
class SubstitutionGaps:
    """The preview's warning: fields some recipients lack, and whether the
    text greets by name (those without a name get «Здравствуйте»)."""

    fields: list[MissingField]
    greets_by_name: bool


def compose_missing_fields(*, account, payload: dict) -> SubstitutionGaps:
    """How many recipients lack each personal field the text substitutes.
    Pasted numbers have no phonebook fields at all; contacts of the chosen
    groups are counted in one query."""
    text = payload.get("text") or ""
    if "[" not in text:
        return SubstitutionGaps([], False)
    fields = dict(
        substituted_fields(text, custom_field_commands(account_id=account.pk))
    )
    if not fields:
        return SubstitutionGaps([], False)
    pasted = len(payload.get("phones") or [])
    group_ids = payload.get("group_ids") or []
    counts = (
        audience_missing(
            account_id=account.pk,
            group_ids=group_ids,
            filters=payload.get("filters") or None,
            fields=fields,
        )
        if group_ids
        else dict.fromkeys(fields, 0)
    )
    missing = [
        MissingField(command, counts[command] + pasted)
        for command in fields
        if counts[command] + pasted
    ]
    return SubstitutionGaps(missing, bool(missing) and has_greeting(text))


# --- templates (S6) ---------------------------------------------------------------


def template_list(*, account_id: int, channel: str = "sms"):
    return MessageTemplate.objects.filter(account_id=account_id, channel=channel)


def template_get(*, account_id: int, template_id) -> MessageTemplate:
    """The account's template; ``MessageTemplate.DoesNotExist`` otherwise."""
    try:
        template_id = int(template_id)
    except (TypeError, ValueError):
        raise MessageTemplate.DoesNotExist from None
    return MessageTemplate.objects.get(account_id=account_id, pk=template_id)


def template_save(
    *,
    account,
    payload: dict,
    name: str = "",
    template: MessageTemplate | None = None,
    channel: str = "sms",
) -> MessageTemplate:
    """Save the form as a new template (``name``) or over ``template``."""
    form = {k: v for k, v in payload.items() if k in PAYLOAD_KEYS and k != "text"}
    with transaction.atomic():
        if template is None:
            return MessageTemplate.objects.create(
                account_id=account.pk,
                channel=channel,
                name=name.strip()[:100],
                text=payload.get("text") or "",
                form=form,
            )
        template.text = payload.get("text") or ""
        template.form = form
        template.updated_at = timezone.now()
        template.save(update_fields=["text", "form", "updated_at"])
        return template


def template_payload(template: MessageTemplate) -> dict:
    return {**(template.form or {}), "text": template.text}


def template_update(
    *, template: MessageTemplate, name: str, text: str | None = None
) -> MessageTemplate:
    template.name = name.strip()[:100]
    fields = ["name", "updated_at"]
    if text is not None:
        template.text = text
        fields.append("text")
    template.updated_at = timezone.now()
    template.save(update_fields=fields)
    return template


def template_delete(*, template: MessageTemplate) -> None:
    template.delete()


# --- the other compose objects: account-scoped reads and deletes -----------------
# Each ``*_get`` raises the model's ``DoesNotExist`` for another account's id.


def sender_history(*, account_id: int, channel: str = "sms"):
    from .models import SenderName

    return SenderName.objects.filter(account_id=account_id, channel=channel)


def moderation_template_list(*, account_id: int, channel: str = "sms"):
    from .models import ModerationTemplate

    return ModerationTemplate.objects.filter(account_id=account_id, channel=channel)


def moderation_template_get(*, account_id: int, pk: int):
    from .models import ModerationTemplate

    return ModerationTemplate.objects.get(account_id=account_id, pk=pk)


def schedule_list(*, account_id: int):
    from .models import Schedule

    return Schedule.objects.filter(account_id=account_id)


def greeting_list(*, account_id: int):
    from .models import Greeting

    return Greeting.objects.filter(account_id=account_id)


def owned_get(model, *, account_id: int, pk: int):
    """A schedule/greeting/moderation template of this account."""
    return model.objects.get(account_id=account_id, pk=pk)


def owned_delete(obj) -> None:
    obj.delete()


# The manual's price tiers (section 10): from N SMS, the price of one SMS.
ADVERTISING_TIERS = [
    (50_000, Decimal("5.5")),
    (20_000, Decimal("5.9")),
    (10_000, Decimal("6.1")),
    (5_000, Decimal("6.3")),
    (2_500, Decimal("6.5")),
]


def advertising_estimate(volume: int) -> Decimal | None:
    """The application's cost by the manual's tiers (None under 2,500 SMS)."""
    for threshold, price in ADVERTISING_TIERS:
        if volume >= threshold:
            return price * volume
    return None


def advertising_list(*, account_id: int, limit: int = 20):
    from .models import AdvertisingRequest

    rows = list(AdvertisingRequest.objects.filter(account_id=account_id)[:limit])
    for row in rows:
        row.estimate = advertising_estimate(row.volume)
    return rows


def advertising_request_create(*, account, user, data: dict):
    """An SMS-advertising application (D1); staff handle it in the admin."""
    from .models import AdvertisingRequest

    fields = ("cities", "volume", "text", "targeting", "sender", "contact")
    return AdvertisingRequest.objects.create(
        account_id=account.pk, created_by=user, **{k: data[k] for k in fields}
    )


class AdvertisingAnswerError(ValueError):
    """A staff answer on an SMS-ad application that cannot be given."""


def advertising_answer(*, request_id: int, status: str, comment: str, staff_user=None):
    """Staff answer an SMS-ad application: its status and a comment the client
    reads; the client is notified.  Under the application's row lock; nothing
    changes (and nobody is notified) when neither is new."""
    from .models import AdvertisingRequest

    if status not in AdvertisingRequest.Status.values:
        raise AdvertisingAnswerError(_("Неизвестный статус заявки."))
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise AdvertisingAnswerError(_("Ответ — не длиннее 2000 символов."))
    with transaction.atomic():
        row = AdvertisingRequest.objects.select_for_update().get(pk=request_id)
        if row.status == status and row.staff_comment == comment:
            return row, False
        row.status = status
        row.staff_comment = comment
        row.save(update_fields=["status", "staff_comment"])
        notify(
            account_id=row.account_id,
            title=_("Заявка на SMS-рекламу #%(id)s: %(s)s")
            % {"id": row.pk, "s": row.get_status_display()},
            body=comment,
            kind=Notification.Kind.INFO,
            url="/sms/advertising/",
        )
    return row, True


def translit_table() -> dict[str, str]:
    """The transliteration's character table for the live counter (the JS
    counts the transliterated text when "Транслитерация СМС" is on)."""
    return counting_table()
