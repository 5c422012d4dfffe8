"""Events: handlers (validated, saved, switched), the outbox and its
processing (docs/EVENTS.md).

Exactly once: an event row is written in its cause's transaction (or by a
receiver right after the cause commits); ``events_process`` claims pending
events with ``SELECT … FOR UPDATE SKIP LOCKED`` and, in the same transaction,
runs the handlers, writes one ``Run`` per (handler, event) — unique — and
marks the events done.  A worker that dies rolls all of it back and the events
are claimed again; a second worker skips the locked rows.

Batches: the events of one claim are grouped by handler and each handler acts
once on all their subjects, so an import of 100,000 contacts (one event) or
1,000 API additions within a second (1,000 events, one claim) launch a few
campaigns through the pipeline.

Loops: an event caused by an action carries ``depth`` (the action's event's
depth + 1: a contextvar for the contacts an action adds, ``ActionCampaign``
for the statuses of the messages it sent); at ``MAX_DEPTH`` handlers do not
run and the history says so.  A handler that runs more than
``max_runs_per_hour`` times an hour is switched off (the rate breaker).
"""

import contextvars
import datetime as dt
import json
import logging
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from celery import current_app
from django.conf import settings as dj_settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cabinet.formats import money_ru
from cabinet.notifications import notify
from contacts.models import Contact, CustomField, Group
from integrations import services as integrations
from messaging import registry
from messaging.greetings import days_celebrated, parse_day
from messaging.models import Campaign, Message
from messaging.scheduling import zone

from . import actions as act
from .kinds import CONTACT_VALUES, KINDS, OPS, STATUS_KINDS, kind_fields, matches
from .models import Action, ActionCampaign, Event, Handler, Run, WebhookCall

log = logging.getLogger(__name__)

MAX_DEPTH = 3
CLAIM_LIMIT = 500
MAX_ACTIONS = 10
MAX_CONDITIONS = 20
DEFAULT_TZ = "Europe/Moscow"

# The depth of the events the current action causes (0 outside actions).
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("events_depth", default=0)


class HandlerError(Exception):
    """Bad input for a handler; ``message`` is for the user, ``errors`` maps
    a place (``conditions``, ``actions.0.text``…) to its messages."""

    def __init__(self, message: str, *, errors: dict | None = None, code="invalid"):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.code = code


# -- which accounts listen ---------------------------------------------------------


def _kinds_key(account_id: int) -> str:
    return f"events:kinds:{account_id}"


# A per-process copy for a couple of seconds in front of the shared cache: the
# JSON API's one-message sends announce a ledger entry each (hundreds a
# second), and most accounts have no handler at all.
LOCAL_SECONDS = 2.0
_local: dict[int, tuple[float, dict]] = {}


def active_kinds(account_id: int) -> dict:
    """{kind: [handler settings…]} of the account's active handlers — cached,
    so a ledger entry or an added contact of an account without handlers
    costs a dictionary look-up (or one cache read)."""
    now = time.monotonic()
    hit = _local.get(account_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    key = _kinds_key(account_id)
    found = cache.get(key)
    if found is None:
        found = defaultdict(list)
        for kind, sett in Handler.objects.filter(
            account_id=account_id, is_active=True
        ).values_list("kind", "settings"):
            found[kind].append(sett or {})
        found = dict(found)
        cache.set(key, found, 300)
    if len(_local) > 10000:
        _local.clear()
    _local[account_id] = (now + LOCAL_SECONDS, found)
    return found


STATUS_LISTENERS_KEY = "events:status-listeners"


def status_listeners() -> dict:
    """{account_id: {kinds}} of active message-status handlers, cached: the
    statuses of accounts without one cost a cache read, not a query."""
    found = cache.get(STATUS_LISTENERS_KEY)
    if found is None:
        found = defaultdict(set)
        for account_id, kind in Handler.objects.filter(
            is_active=True, kind__in=set(STATUS_KINDS.values())
        ).values_list("account_id", "kind"):
            found[account_id].add(kind)
        found = dict(found)
        cache.set(STATUS_LISTENERS_KEY, found, 300)
    return found


def _forget_kinds(account_id: int) -> None:
    def forget():
        _local.pop(account_id, None)
        cache.delete_many([_kinds_key(account_id), STATUS_LISTENERS_KEY])

    forget()
    transaction.on_commit(forget)


# -- handlers ------------------------------------------------------------------------


def _validate_settings(account, kind, raw: dict) -> dict:
    raw = raw or {}
    if kind.code == "balance_low":
        try:
            threshold = Decimal(str(raw.get("threshold", "")).replace(",", "."))
        except (InvalidOperation, ValueError):
            threshold = None
        if threshold is None or not threshold.is_finite() or threshold <= 0:
            raise HandlerError(
                _("Укажите порог баланса — сумму больше нуля."),
                errors={"settings.threshold": [_("Введите сумму больше нуля.")]},
            )
        return {"threshold": str(threshold.quantize(Decimal("0.01")))}
    if kind.code == "contact_date":
        field = raw.get("date_field") or "birth_date"
        keys = set(
            CustomField.objects.filter(
                account_id=account.pk, kind=CustomField.Kind.DATE
            ).values_list("key", flat=True)
        )
        if field != "birth_date" and field not in keys:
            raise HandlerError(
                _("Поле с датой «%(f)s» не существует.") % {"f": field},
                errors={"settings.date_field": [_("Выберите поле с датой.")]},
            )
        at = str(raw.get("at") or "10:00")
        try:
            parsed = dt.time.fromisoformat(at)
        except ValueError:
            raise HandlerError(
                _("Время укажите как ЧЧ:ММ."),
                errors={"settings.at": [_("Время укажите как ЧЧ:ММ.")]},
            ) from None
        return {"date_field": field, "at": parsed.strftime("%H:%M")}
    return {}


def _validate_conditions(account, kind, raw) -> list[dict]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        raise HandlerError(_("Условия заданы неверно."), errors={"conditions": []})
    custom = CustomField.objects.filter(account_id=account.pk)
    fields = {f.key: f for f in kind_fields(kind, custom)}
    out = []
    for i, cond in enumerate(raw):
        if not isinstance(cond, dict):
            raise HandlerError(_("Условия заданы неверно."))
        key = str(cond.get("field") or "").strip()
        op = str(cond.get("op") or "eq").strip()
        value = cond.get("value")
        value = "" if value is None else str(value).strip()
        where = f"conditions.{i}"
        if not key and not value:
            continue
        if key not in fields:
            raise HandlerError(
                _("Поле «%(f)s» не существует у события «%(e)s».")
                % {"f": key, "e": kind.label},
                errors={f"{where}.field": [_("Такого поля нет.")]},
                code="unknown_field",
            )
        if op not in OPS:
            raise HandlerError(
                _("Неизвестное сравнение «%(op)s».") % {"op": op},
                errors={f"{where}.op": [_("Неизвестное сравнение.")]},
            )
        f = fields[key]
        if f.type == "group":
            if not Group.objects.filter(
                pk=int(value) if value.isdigit() else 0,
                account_id=account.pk,
                deleted_at__isnull=True,
            ).exists():
                raise HandlerError(
                    _("Группа не найдена."),
                    errors={f"{where}.value": [_("Группа не найдена.")]},
                    code="not_found",
                )
        elif f.type == "channel":
            # The online chat answers too (its replies come as "chat").
            if value not in {k.code for k in registry.all_channels()} | {"chat"}:
                raise HandlerError(
                    _("Неизвестный канал «%(c)s».") % {"c": value},
                    errors={f"{where}.value": [_("Неизвестный канал.")]},
                )
        elif f.type == "choice":
            # A label typed in («вручную», «женский») means its code.
            by_label = {str(label).lower(): str(code) for code, label in f.choices}
            value = by_label.get(value.lower(), value)
            if value not in {str(c[0]) for c in f.choices}:
                raise HandlerError(
                    _("Недопустимое значение «%(v)s» для поля «%(f)s».")
                    % {"v": value, "f": f.label},
                    errors={f"{where}.value": [_("Недопустимое значение.")]},
                )
        elif f.type == "number" or op in ("gt", "lt"):
            try:
                Decimal(value.replace(",", "."))
            except InvalidOperation:
                raise HandlerError(
                    _("Для сравнения «%(op)s» нужно число.") % {"op": OPS[op]},
                    errors={f"{where}.value": [_("Введите число.")]},
                ) from None
        out.append({"field": key, "op": op, "value": value})
    return out


def _validate_actions(account, kind, raw, old: list | None = None) -> list[tuple]:
    if not isinstance(raw, list) or not raw:
        raise HandlerError(
            _("Добавьте хотя бы одно действие."),
            errors={"actions": [_("Добавьте хотя бы одно действие.")]},
            code="no_action",
        )
    if len(raw) > MAX_ACTIONS:
        raise HandlerError(
            _("Не более %(n)s действий в обработчике.") % {"n": MAX_ACTIONS}
        )
    old = old or []
    out, errors = [], {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise HandlerError(_("Действие задано неверно."))
        code = str(item.get("kind") or "")
        if code not in kind.actions:
            raise HandlerError(
                _("Действие «%(a)s» недоступно для события «%(e)s».")
                % {"a": act.LABELS.get(code, code), "e": kind.label},
                errors={f"actions.{i}.kind": [_("Недоступное действие.")]},
            )
        data = item.get("config") or {}
        if not isinstance(data, dict):
            raise HandlerError(_("Действие задано неверно."))
        form = act.form_for(code, account=account, data=_form_data(data))
        if not form.is_valid():
            for name, msgs in form.errors.items():
                errors[f"actions.{i}.{name}"] = list(msgs)
            continue
        previous = old[i].config if i < len(old) and old[i].kind == code else None
        out.append((code, act.config_from_form(code, form, previous)))
    if errors:
        first = next(iter(errors.values()))[0]
        raise HandlerError(_("Исправьте действие: %(e)s") % {"e": first}, errors=errors)
    return out


def _form_data(data: dict):
    """A JSON object as form data: lists stay lists, booleans become "on"."""
    from django.http import QueryDict

    q = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            q.setlist(key, [str(v) for v in value])
        elif isinstance(value, bool):
            if value:
                q[key] = "on"
        elif value is not None:
            q[key] = str(value)
    return q


def handler_save(
    *,
    account,
    kind: str,
    name: str = "",
    conditions=None,
    actions=None,
    settings: dict | None = None,
    is_active: bool = True,
    handler: Handler | None = None,
    user=None,
    max_runs_per_hour: int | None = None,
) -> Handler:
    """Create or replace a handler.  ``actions``: [{"kind", "config"}] where
    ``config`` is the action's form data.  Raises ``HandlerError`` — nothing
    saved — for an unknown event, no action, an invalid action form, a webhook
    URL that is not public, a condition on a field that does not exist or a
    group of another account."""
    spec = KINDS.get(kind)
    if spec is None:
        raise HandlerError(
            _("Неизвестное событие «%(k)s».") % {"k": kind},
            errors={"kind": [_("Неизвестное событие.")]},
        )
    name = (name or "").strip()[:200]
    clean_settings = _validate_settings(account, spec, settings)
    clean_conditions = _validate_conditions(account, spec, conditions)
    old = list(handler.actions.all()) if handler is not None else []
    clean_actions = _validate_actions(account, spec, actions, old)
    if max_runs_per_hour is not None and not 1 <= int(max_runs_per_hour) <= 100000:
        raise HandlerError(_("Ограничитель: от 1 до 100 000 запусков в час."))
    with transaction.atomic():
        if handler is None:
            handler = Handler(account=account, kind=kind, created_by=user)
        handler.name = name or str(spec.label)
        handler.conditions = clean_conditions
        handler.settings = clean_settings
        handler.is_active = is_active
        if max_runs_per_hour is not None:
            handler.max_runs_per_hour = int(max_runs_per_hour)
        if is_active:
            handler.stopped_reason = ""
        handler.updated_at = timezone.now()
        handler.save()
        handler.actions.all().delete()
        Action.objects.bulk_create(
            [
                Action(handler=handler, position=i, kind=code, config=config)
                for i, (code, config) in enumerate(clean_actions)
            ]
        )
        _forget_kinds(account.pk)
    return handler


def handler_set_active(*, handler: Handler, active: bool) -> Handler:
    handler.is_active = active
    if active:
        handler.stopped_reason = ""
    handler.updated_at = timezone.now()
    handler.save(update_fields=["is_active", "stopped_reason", "updated_at"])
    _forget_kinds(handler.account_id)
    return handler


def handler_delete(*, handler: Handler) -> None:
    account_id = handler.account_id
    handler.delete()
    _forget_kinds(account_id)


# -- recording (the outbox) ------------------------------------------------------------


def _kick() -> None:
    """Process soon, at most one task a second (the beat is the safety net)."""

    def enqueue():
        # Events committed within the next second ride on this task.
        if cache.add("events:kick", 1, timeout=1) or current_app.conf.task_always_eager:
            from .tasks import events_process  # tasks import this module

            events_process.apply_async(countdown=1)

    transaction.on_commit(enqueue)


def event_record(
    *, account_id: int, kind: str, payload: dict, key: str = "", depth=None
) -> bool:
    """Write one event in the current transaction.  Returns False when the
    same (kind, key) was already recorded."""
    depth = _depth.get() if depth is None else depth
    if key and Event.objects.filter(account_id=account_id, kind=kind, key=key).exists():
        return False
    Event.objects.bulk_create(
        [
            Event(
                account_id=account_id,
                kind=kind,
                payload=payload,
                key=key[:200],
                depth=depth,
            )
        ],
        ignore_conflicts=bool(key),  # a concurrent twin
    )
    _kick()
    return True


def on_contacts_added(*, account_id, group_id, source, **which) -> None:
    if "contact_added" not in active_kinds(account_id):
        return
    payload = {"group_id": group_id, "source": source}
    if which.get("contact_ids") is not None:
        payload["contact_ids"] = [int(i) for i in which["contact_ids"]]
    elif which.get("phones") is not None:
        payload["phones"] = list(which["phones"])
    elif which.get("created_at") is not None:
        payload["created_at"] = which["created_at"].isoformat()
    else:
        return
    event_record(account_id=account_id, kind="contact_added", payload=payload)


def on_statuses_changed(*, channel: str, changes: list) -> int:
    """Status changes → one event per (account, kind, depth) for accounts with
    an active handler of that kind.  Called after the statuses commit."""
    wanted = defaultdict(list)
    for mid, cid, _old, new in changes:
        kind = STATUS_KINDS.get(new)
        if kind:
            wanted[kind].append((mid, cid))
    if not wanted:
        return 0
    kinds_of = {
        account_id: kinds
        for account_id, kinds in status_listeners().items()
        if kinds & set(wanted)
    }
    if not kinds_of:
        return 0
    cids = {cid for pairs in wanted.values() for _m, cid in pairs}
    by_campaign = dict(
        Campaign.objects.filter(pk__in=cids, account_id__in=list(kinds_of)).values_list(
            "id", "account_id"
        )
    )
    if not by_campaign:
        return 0
    depths = dict(
        ActionCampaign.objects.filter(campaign_id__in=list(by_campaign)).values_list(
            "campaign_id", "depth"
        )
    )
    groups = defaultdict(list)
    for kind, pairs in wanted.items():
        for mid, cid in pairs:
            account_id = by_campaign.get(cid)
            if account_id and kind in kinds_of.get(account_id, ()):
                groups[(account_id, kind, depths.get(cid, 0))].append(mid)
    with transaction.atomic():
        for (account_id, kind, depth), mids in groups.items():
            event_record(
                account_id=account_id,
                kind=kind,
                payload={"channel": channel, "message_ids": mids},
                depth=depth,
            )
    return len(groups)


def on_replies(*, channel: str, replies: list) -> int:
    written = 0
    with transaction.atomic():
        for reply in replies:
            account_id = reply.get("account_id")
            if not account_id or "reply_received" not in active_kinds(account_id):
                continue
            payload = {
                "channel": channel,
                "phone": reply.get("phone") or "",
                "contact_id": reply.get("contact_id"),
                "text": (reply.get("text") or "")[:2000],
                "sender": reply.get("sender") or "",
                "message_id": reply.get("message_id"),
                "campaign_id": reply.get("campaign_id"),
            }
            ext = reply.get("external_id") or ""
            written += event_record(
                account_id=account_id,
                kind="reply_received",
                payload=payload,
                key=f"{channel}:{ext}" if ext else "",
                depth=0,
            )
    return written


def on_ledger(*, entry, balance_before) -> None:
    """A ledger entry (inside its transaction): a payment credited, or the
    balance crossing one of the account's thresholds downwards."""
    if entry.kind in ("topup", "payment") and entry.amount > 0:
        kinds = active_kinds(entry.account_id)
        if "payment_credited" in kinds:
            event_record(
                account_id=entry.account_id,
                kind="payment_credited",
                payload={"amount": str(entry.amount), "entry_id": entry.pk},
                key=f"ledger:{entry.pk}",
            )
        return
    if entry.amount >= 0:
        return
    kinds = active_kinds(entry.account_id)
    before, after = Decimal(balance_before), Decimal(entry.balance_after)
    crossed = [
        s
        for s in kinds.get("balance_low", [])
        if after < Decimal(s.get("threshold") or "0") <= before
    ]
    if crossed:
        event_record(
            account_id=entry.account_id,
            kind="balance_low",
            payload={"balance_before": str(before), "balance_after": str(after)},
            key=f"ledger:{entry.pk}",
        )


# -- sweeps (dates, finished campaigns) ----------------------------------------


def dates_due(*, now: dt.datetime | None = None) -> int:
    """Record today's «date in a contact» events whose time has come in the
    contacts' own time zones.  One event per (field, time, day, zone): the
    key makes a repeated sweep a no-op.  Returns events written."""
    now = now or timezone.now()
    written = 0
    handlers = Handler.objects.filter(kind="contact_date", is_active=True)
    seen = set()
    for h in handlers:
        field = (h.settings or {}).get("date_field") or "birth_date"
        at = dt.time.fromisoformat((h.settings or {}).get("at") or "10:00")
        for tz_name in _zones(h.account_id):
            tz = tz_name or DEFAULT_TZ
            local = now.astimezone(zone(tz))
            if local.time() < at:
                continue
            day = local.date()
            key = f"date:{field}:{at:%H:%M}:{day.isoformat()}:{tz_name}"
            if (h.account_id, key) in seen:
                continue
            seen.add((h.account_id, key))
            if Event.objects.filter(
                account_id=h.account_id, kind="contact_date", key=key
            ).exists():
                continue
            ids = _contacts_on_day(h.account_id, field, tz_name, day)
            with transaction.atomic():
                written += event_record(
                    account_id=h.account_id,
                    kind="contact_date",
                    payload={
                        "date_field": field,
                        "at": at.strftime("%H:%M"),
                        "day": day.isoformat(),
                        "timezone": tz,
                        "contact_ids": ids,
                    },
                    key=key,
                    depth=0,
                )
    return written


def _zones(account_id: int) -> list[str]:
    """The time zones of the account's contacts ("" = unknown), cached for an
    hour: the sweep runs every 30 s, the scan of a big phonebook should not."""
    key = f"events:zones:{account_id}"
    zones = cache.get(key)
    if zones is None:
        zones = sorted(
            set(
                Contact.objects.filter(account_id=account_id)
                .values_list("timezone", flat=True)
                .distinct()
            )
        )
        cache.set(key, zones, 3600)
    return zones


def _contacts_on_day(account_id: int, field: str, tz_name: str, day) -> list[int]:
    qs = Contact.objects.filter(
        account_id=account_id, timezone=tz_name, group__deleted_at__isnull=True
    )
    wanted = days_celebrated(day)
    if field == "birth_date":
        cond = Q()
        for month, dom in wanted:
            cond |= Q(birth_date__month=month, birth_date__day=dom)
        return list(qs.filter(cond).order_by("id").values_list("id", flat=True))
    out = []
    for cid, extra in (
        qs.filter(extra__has_key=field).order_by("id").values_list("id", "extra")
    ):
        if parse_day((extra or {}).get(field)) in wanted:
            out.append(cid)
    return out


def campaigns_finished(*, now: dt.datetime | None = None) -> int:
    """Record «campaign finished» for campaigns of listening accounts done
    within the last day (the key makes it once per campaign)."""
    now = now or timezone.now()
    listening = dict(
        Handler.objects.filter(kind="campaign_finished", is_active=True)
        .order_by("account_id", "created_at")
        .values_list("account_id", "created_at")
    )
    written = 0
    for account_id, since in listening.items():
        # Since the last sweep (a minute's overlap), at most a day back.
        mark = f"events:finished-since:{account_id}"
        since = max(since, cache.get(mark) or now - timedelta(days=1))
        done = list(
            Campaign.objects.filter(
                account_id=account_id,
                status=Campaign.Status.DONE,
                finished_at__gte=since,
            )
            .order_by("finished_at")
            .values("id", "channel", "tags", "cost", "recipients", "finished_at")[:5000]
        )
        if len(done) < 5000:
            cache.set(mark, now - timedelta(minutes=1), 86400)
        elif done:
            cache.set(mark, done[-1]["finished_at"], 86400)
        seen = set(
            Event.objects.filter(
                account_id=account_id,
                kind="campaign_finished",
                key__in=[f"campaign:{c['id']}" for c in done],
            ).values_list("key", flat=True)
        )
        done = [c for c in done if f"campaign:{c['id']}" not in seen]
        if not done:
            continue
        depths = dict(
            ActionCampaign.objects.filter(
                campaign_id__in=[c["id"] for c in done]
            ).values_list("campaign_id", "depth")
        )
        with transaction.atomic():
            for c in done:
                written += event_record(
                    account_id=account_id,
                    kind="campaign_finished",
                    payload={
                        "campaign_id": c["id"],
                        "channel": c["channel"],
                        "tags": list(c["tags"] or []),
                        "cost": str(c["cost"]),
                        "recipients": c["recipients"],
                    },
                    key=f"campaign:{c['id']}",
                    depth=depths.get(c["id"], 0),
                )
    return written


# -- processing -----------------------------------------------------------------------


def _contact_subjects(event: Event, *, extra: bool = True) -> list[dict]:
    """The event's contacts as flat dicts; ``extra`` (custom fields, a JSON
    decode per row — a third of the time for 100,000 contacts) only when a
    condition reads it."""
    p = event.payload
    qs = Contact.objects.filter(account_id=event.account_id)
    if p.get("group_id"):
        qs = qs.filter(group_id=p["group_id"])
    if "contact_ids" in p:
        qs = qs.filter(pk__in=p["contact_ids"])
    elif "phones" in p:
        qs = qs.filter(phone__in=p["phones"])
    elif "created_at" in p:
        qs = qs.filter(created_at=dt.datetime.fromisoformat(p["created_at"]))
    else:
        return []
    out = []
    values = CONTACT_VALUES if extra else [v for v in CONTACT_VALUES if v != "extra"]
    for row in qs.order_by("id").values(*values).iterator(chunk_size=20000):
        row["contact_id"] = row.pop("id")
        row["source"] = p.get("source", "")
        out.append(row)
    return out


def _message_subjects(event: Event) -> list[dict]:
    rows = list(
        Message.objects.filter(
            account_id=event.account_id, pk__in=event.payload.get("message_ids") or []
        ).values("id", "phone", "contact_id", "campaign_id", "channel", "status")
    )
    tags = dict(
        Campaign.objects.filter(pk__in={r["campaign_id"] for r in rows}).values_list(
            "id", "tags"
        )
    )
    for r in rows:
        r["message_id"] = r.pop("id")
        r["tags"] = list(tags.get(r["campaign_id"]) or [])
    return rows


def subjects_of(event: Event, conditions=()) -> list[dict]:
    if event.kind in ("contact_added", "contact_date"):
        extra = any(c["field"].startswith("extra.") for c in conditions)
        return _contact_subjects(event, extra=extra)
    if event.kind.startswith("message_"):
        return _message_subjects(event)
    return [dict(event.payload)]


def _settings_match(handler: Handler, event: Event) -> bool:
    s, p = handler.settings or {}, event.payload
    if handler.kind == "contact_date":
        return s.get("date_field") == p.get("date_field") and s.get("at") == p.get("at")
    if handler.kind == "balance_low":
        t = Decimal(s.get("threshold") or "0")
        return Decimal(p["balance_after"]) < t <= Decimal(p["balance_before"])
    return True


def trigger_text(event: Event, subjects: list[dict], names=None) -> str:
    """«What happened», for the history; ``names`` caches group names over a
    batch."""
    spec = KINDS[event.kind]
    p = event.payload
    n = len(subjects)
    first = subjects[0] if subjects else {}
    if event.kind == "contact_added":
        source = dict(_sources()).get(p.get("source"), p.get("source", ""))
        names = {} if names is None else names
        gid = p.get("group_id")
        if gid not in names:
            names[gid] = (
                Group.objects.filter(pk=gid).values_list("name", flat=True).first()
                or ""
            )
        group = names[gid]
        if n == 1:
            return _("Контакт %(phone)s добавлен (%(how)s) в группу «%(g)s»") % {
                "phone": first.get("phone"),
                "how": source,
                "g": group,
            }
        return _("Добавлено контактов: %(n)s (%(how)s) в группу «%(g)s»") % {
            "n": n,
            "how": source,
            "g": group,
        }
    if event.kind == "contact_date":
        return _("%(e)s %(day)s: контактов %(n)s") % {
            "e": spec.label,
            "day": p.get("day"),
            "n": n,
        }
    if event.kind.startswith("message_"):
        if n == 1:
            return f"{spec.label}: {first.get('phone')} ({p.get('channel')})"
        return _("%(e)s: сообщений %(n)s (%(c)s)") % {
            "e": spec.label,
            "n": n,
            "c": p.get("channel"),
        }
    if event.kind == "reply_received":
        text = (p.get("text") or "")[:80]
        return _("Ответ от %(phone)s (%(c)s): «%(t)s»") % {
            "phone": p.get("phone"),
            "c": p.get("channel"),
            "t": text,
        }
    if event.kind == "balance_low":
        return _("Баланс %(after)s (был %(before)s)") % {
            "after": money_ru(Decimal(p["balance_after"])),
            "before": money_ru(Decimal(p["balance_before"])),
        }
    if event.kind == "payment_credited":
        return _("Зачислен платёж %(a)s") % {"a": money_ru(Decimal(p["amount"]))}
    return _("Рассылка №%(id)s завершена") % {"id": p.get("campaign_id")}


def _sources():
    from .kinds import SOURCES

    return [(k, str(v)) for k, v in SOURCES]


def events_process(*, limit: int = CLAIM_LIMIT) -> int:
    """Claim pending events and run their handlers; repeat until none is
    pending.  Returns events processed."""
    total = 0
    while True:
        done = _process_claim(limit)
        total += done
        if done < limit:
            return total


def _process_claim(limit: int) -> int:
    now = timezone.now()
    with transaction.atomic():
        qs = Event.objects.filter(state=Event.State.PENDING).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        events = list(qs[:limit])
        if not events:
            return 0
        by_key = defaultdict(list)
        for e in events:
            by_key[(e.account_id, e.kind)].append(e)
        handlers = Handler.objects.filter(
            is_active=True,
            account_id__in={e.account_id for e in events},
            kind__in={e.kind for e in events},
        ).select_related("account")
        for handler in handlers:
            mine = by_key.get((handler.account_id, handler.kind))
            if mine:
                _run_handler(handler, mine, now)
        Event.objects.filter(pk__in=[e.pk for e in events]).update(
            state=Event.State.DONE, processed_at=now
        )
    return len(events)


def _run_handler(handler: Handler, events: list[Event], now) -> None:
    done = set(
        Run.objects.filter(handler=handler, event__in=events).values_list(
            "event_id", flat=True
        )
    )
    events = [e for e in events if e.pk not in done and _settings_match(handler, e)]
    if not events:
        return
    spec = KINDS[handler.kind]
    runs: list[Run] = []
    live: list[tuple[Event, list[dict], Run]] = []
    recent = (
        Run.objects.filter(handler=handler, created_at__gte=now - timedelta(hours=1))
        .exclude(outcome__in=[Run.Outcome.RATE, Run.Outcome.DEPTH])
        .count()
    )
    allowed = max(handler.max_runs_per_hour - recent, 0)
    tripped = False
    names: dict = {}
    for e in events:
        subjects = [
            s
            for s in subjects_of(e, handler.conditions)
            if matches(handler.conditions, s)
        ]
        if not subjects:
            continue
        run = Run(
            account_id=handler.account_id,
            handler=handler,
            event=e,
            created_at=now,
            trigger=trigger_text(e, subjects, names)[:300],
            subjects=len(subjects),
        )
        if e.depth >= MAX_DEPTH:
            run.outcome = Run.Outcome.DEPTH
            run.results = [
                _(
                    "Цепочка событий длиннее %(n)s шагов: обработчик не запущен, "
                    "чтобы не зациклиться."
                )
                % {"n": MAX_DEPTH}
            ]
        elif allowed <= 0:
            run.outcome = Run.Outcome.RATE
            run.results = [
                _(
                    "Более %(n)s запусков за час: сработал ограничитель, "
                    "обработчик выключен."
                )
                % {"n": handler.max_runs_per_hour}
            ]
            tripped = True
        else:
            allowed -= 1
            run.outcome = Run.Outcome.OK
            live.append((e, subjects, run))
        runs.append(run)
    if not runs:
        return
    Run.objects.bulk_create(runs)
    if live:
        _act(handler, spec, live)
    Handler.objects.filter(pk=handler.pk).update(
        runs_count=F("runs_count") + len(live), last_run_at=now
    )
    if tripped:
        reason = runs[-1].results[0]
        Handler.objects.filter(pk=handler.pk).update(
            is_active=False, stopped_reason=reason[:300]
        )
        _forget_kinds(handler.account_id)
        notify(
            account_id=handler.account_id,
            title=_("Обработчик события «%(h)s» выключен") % {"h": handler.name},
            body=reason,
            url="/events/",
        )


def _act(handler: Handler, spec, live: list) -> None:
    subjects, seen = [], set()
    for _e, subs, _r in live:
        for s in subs:
            ident = (s.get("contact_id"), s.get("message_id"), s.get("phone"))
            if ident in seen and any(ident):
                continue
            seen.add(ident)
            subjects.append(s)
    batch = act.Batch(
        account=handler.account,
        handler=handler,
        kind_label=str(spec.label),
        subjects=subjects,
        events=[e for e, _s, _r in live],
        depth=max(e.depth for e, _s, _r in live),
        run=live[0][2],
    )
    results, cost, failed, succeeded = [], Decimal("0"), 0, 0
    token = _depth.set(batch.depth + 1)
    try:
        for action in handler.actions.all():
            label = str(act.LABELS.get(action.kind, action.kind))
            try:
                with transaction.atomic():
                    out = act.run(action.kind, batch, action.config)
            except Exception:  # an action's bug must not stop the batch
                log.exception("events: action %s of handler %s", action.pk, handler.pk)
                out = act.Outcome(False, _("внутренняя ошибка, действие не выполнено"))
            results.append(f"{label}: {out.text}")
            cost += out.cost
            failed += not out.ok
            succeeded += out.ok
    finally:
        _depth.reset(token)
    outcome = (
        Run.Outcome.OK
        if not failed
        else Run.Outcome.PARTIAL
        if succeeded
        else Run.Outcome.FAILED
    )
    total = sum(r.subjects for _e, _s, r in live) or 1
    left = cost
    for i, (_e, _s, run) in enumerate(live):
        share = (
            left
            if i == len(live) - 1
            else (cost * run.subjects / total).quantize(Decimal("0.01"))
        )
        left -= share
        Run.objects.filter(pk=run.pk).update(
            outcome=outcome, results=results, cost=share
        )


# -- webhooks -------------------------------------------------------------------


def webhook_call_deliver(*, call_id: int) -> bool | None:
    """POST one webhook call, signed with its action's secret (the
    integrations webhooks' signing, SSRF guard, timeout and backoff).  Returns
    True on success, False on a failure (retried later), None if not due."""
    now = timezone.now()
    with transaction.atomic():
        qs = WebhookCall.objects.filter(
            pk=call_id, state=WebhookCall.State.PENDING, next_attempt_at__lte=now
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        call = qs.first()
        if call is None:
            return None
        lease = timedelta(seconds=dj_settings.WEBHOOK_TIMEOUT * 3 + 30)
        WebhookCall.objects.filter(pk=call.pk).update(next_attempt_at=now + lease)
    secret = ""
    for a in call.run.handler.actions.all():
        if a.kind == "webhook" and a.config.get("url") == call.url:
            secret = a.config.get("secret") or ""
            break
    body = json.dumps(
        {"account_id": call.account_id, **call.body},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "cabinet-events/1.0",
        "X-Timestamp": stamp,
        "X-Signature": integrations.sign(secret, stamp, body),
    }
    result = integrations.http_post(
        call.url, body, headers, dj_settings.WEBHOOK_TIMEOUT
    )
    attempt = call.attempts + 1
    if result.ok:
        state, retry = WebhookCall.State.DELIVERED, None
    elif attempt >= dj_settings.WEBHOOK_MAX_ATTEMPTS:
        state, retry = WebhookCall.State.FAILED, None
    else:
        state, retry = (
            WebhookCall.State.PENDING,
            timezone.now() + integrations.backoff(attempt),
        )
    WebhookCall.objects.filter(pk=call.pk).update(
        state=state,
        attempts=attempt,
        status_code=result.status,
        error=(result.error or "")[:300],
        next_attempt_at=retry or timezone.now(),
    )
    return result.ok


def events_purge(*, days: int = 30) -> int:
    """Drop processed events older than ``days`` that no handler ran for (the
    ones with runs stay: they are the history).  Returns rows deleted."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = Event.objects.filter(
        state=Event.State.DONE, processed_at__lt=cutoff, runs__isnull=True
    ).delete()
    return deleted


def webhooks_due(limit: int = 200) -> list[int]:
    return list(
        WebhookCall.objects.filter(
            state=WebhookCall.State.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("id", flat=True)[:limit]
    )
