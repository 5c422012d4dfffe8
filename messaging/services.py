"""The dispatch pipeline shared by every channel (docs/DECISIONS.md):

launch (plan, hold the price, enqueue prepare) → prepare
(``messaging.prepare``: audience → message rows) → dispatch
(``messaging.dispatch``: claim due messages, hand them to the gateway) → receipts
(``messaging.statuses``: idempotent status updates; final failures refunded once).

Who gets what at what price is decided by one planner (``messaging.planning``)
for every way of sending.  This module is the public face: views, the API, the
scheduler, promo, scenarios and events call these functions.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.db import transaction
from django.utils import timezone

from billing.models import LedgerKind
from billing.services import DuplicateEntry, InsufficientFunds, ledger_post
from cabinet.formats import money_ru
from cabinet.models import Account
from contacts.models import Group
from contacts.selectors import audience_iter, groups_owned

from . import prepare as preparation
from .dispatch import dispatch_batch, dispatch_channel  # noqa: F401  (public)
from .models import Campaign, CampaignCounter, Message, MessageStatus, Source
from .planning import (  # noqa: F401  (LaunchError is public here)
    LaunchError,
    Planned,
    Planner,
    Policy,
    Recipient,
    audience_totals_sql,
    excluded_message,
    normalise_phones,
    policy_for,
    set_based,
)
from .prepare import STATIC_FIELDS, Preparer, campaign_settle, write_messages
from .registry import LaunchCharge
from .rendering import build_renderer, preview_renderer
from .statuses import (  # noqa: F401  (public)
    campaign_counters,
    campaign_finish_if_done,
    counters_init,
    locked,
    messages_refund,
    receipts_apply,
    set_statuses,
)
from .timing import SendPlanner, parse_smooth, parse_window

S = MessageStatus
# Audiences of pasted numbers up to this size are prepared inside the launch
# transaction (an API call for one message answers with its final price);
# larger ones and every group audience are prepared by a task.
INLINE_PREPARE_LIMIT = 2000
COUPON_COMMAND = re.compile(r"\[\s*couponcode\s*\]", re.IGNORECASE)
MAX_PASTED_RECIPIENTS = 100000


@dataclass
class QuoteLine:
    """What the planner decided for one recipient given directly: its price
    and units, or why it was excluded (``invalid``, ``blocked``,
    ``duplicates``)."""

    phone: str
    client_ref: str
    client_key: str
    units: int = 0
    price: Decimal = Decimal("0")
    excluded: str = ""


@dataclass
class Quote:
    """The price before sending, at the tariff tier it was computed for.
    ``lines`` (on request, for recipients given directly) say what the planner
    decided for each of them, in the order given."""

    messages: int
    units: int
    total: Decimal
    excluded: dict = field(default_factory=dict)
    tier: int = 0
    lines: list = field(default_factory=list)


def _group_ids(account: Account, group_ids) -> list[int]:
    if not group_ids:
        return []
    try:
        ids = sorted({int(g) for g in group_ids})
        groups_owned(account_id=account.pk, group_ids=ids)
    except (TypeError, ValueError, Group.DoesNotExist) as exc:
        raise LaunchError(
            "Группа не найдена.", code="not_found", field="group_ids"
        ) from exc
    return ids


@dataclass
class _Audience:
    group_ids: list[int]
    filters: dict
    pasted: list[str]
    direct: list[Recipient]
    invalid: list[tuple[str, str]]

    @cached_property
    def direct_dicts(self) -> list[dict]:
        # Shallow: a Recipient holds only scalars (asdict's deep copy cost a
        # third of a 1,000-message API request).
        return [dict(r.__dict__) for r in self.direct]

    def as_json(self) -> dict:
        return {
            "group_ids": self.group_ids,
            "filters": self.filters,
            "phones": self.pasted,
            "recipients": self.direct_dicts,
        }

    def entries(self) -> list[dict]:
        """Recipients given directly, then pasted numbers (groups stream); the
        planner reads them and never changes them."""
        return self.direct_dicts + [{"phone": p} for p in self.pasted]

    @property
    def inline(self) -> bool:
        return not self.group_ids and (
            len(self.pasted) + len(self.direct) <= INLINE_PREPARE_LIMIT
        )


def _audience(account, *, group_ids, filters, phones, recipients) -> _Audience:
    pasted, invalid = normalise_phones(phones or [])
    direct = list(recipients or [])
    if len(pasted) + len(direct) > MAX_PASTED_RECIPIENTS:
        raise LaunchError(
            f"Слишком много номеров в одном запросе: не более {MAX_PASTED_RECIPIENTS}.",
            code="too_many",
            field="phones",
        )
    return _Audience(
        group_ids=_group_ids(account, group_ids),
        filters=filters or {},
        pasted=pasted,
        direct=direct,
        invalid=invalid,
    )


def _plan_totals(
    policy: Policy, audience: _Audience, renderer, *, lines: bool = False
) -> tuple[Planned, dict, list]:
    """What the send would cost — the same planner that writes the messages,
    over the whole audience; set-based in SQL for a group audience with one
    text.  Returns (totals, excluded by reason, lines)."""
    excluded = {"invalid": len(audience.invalid), "blocked": 0, "duplicates": 0}
    if set_based(renderer, audience.as_json()):
        units = policy.units(policy.message_text(renderer.render({}, None)))
        planned, found = audience_totals_sql(
            policy, group_ids=audience.group_ids, filters=audience.filters, units=units
        )
        return planned, {**found, "invalid": excluded["invalid"]}, []
    planner = Planner(policy, renderer=renderer)
    now = timezone.now()
    out = []
    direct = audience.entries()
    if direct:
        if lines:
            planner.rejected = []
        planned = planner.plan(planner.admit(direct), now=now)
        if lines:
            out = _quote_lines(direct, planned, planner.rejected)
            planner.rejected = None
    if audience.group_ids:
        for chunk in audience_iter(
            account_id=policy.account.pk,
            group_ids=audience.group_ids,
            filters=audience.filters or None,
            fields=STATIC_FIELDS if renderer.static else None,
        ):
            planner.plan(planner.admit(chunk), now=now)
    for reason, n in planner.excluded.items():
        excluded[reason] += n
    return planner.planned, excluded, out


def _quote_lines(entries: list[dict], planned: list[tuple], rejected) -> list:
    """Each entry's outcome, in the order given: the planner admits in order,
    and ``rejected`` holds the very entries it excluded."""
    excluded = {id(entry): reason for entry, reason in rejected}
    admitted = iter(planned)
    out = []
    for entry in entries:
        reason = excluded.get(id(entry))
        if reason:
            out.append(
                QuoteLine(
                    phone=entry.get("phone") or "",
                    client_ref=entry.get("client_ref") or "",
                    client_key=entry.get("client_key") or "",
                    excluded=reason,
                )
            )
            continue
        _id, _text, units, price, _status, _at, _expires, r = next(admitted)
        out.append(
            QuoteLine(
                phone=r["phone"],
                client_ref=r.get("client_ref") or "",
                client_key=r.get("client_key") or "",
                units=units,
                price=price,
            )
        )
    return out


def campaign_launch(
    *,
    account: Account,
    channel: str,
    text: str,
    sender: str = "",
    group_ids: list[int] | None = None,
    filters: dict | None = None,
    phones: list[str] | None = None,
    recipients: list[Recipient] | None = None,
    content: dict | None = None,
    options: dict | None = None,
    tags: list[str] | None = None,
    description: str = "",
    source: str = Source.CABINET,
    created_by=None,
    send_at: datetime | None = None,
    client_id: str = "",
    charge: bool = True,
    tier: int | None = None,
    quoted_total: Decimal | None = None,
) -> Campaign:
    """Plan a campaign, hold its price and start preparing it.

    The price held is the planner's total over the whole audience at the
    account's tariff tier now (or ``tier``, the one the user was shown): the
    same figure a quote shows, and the campaign is never charged more.  Small
    audiences of pasted numbers are written in the same transaction; others by
    a task after commit, at the same tier.  Raises ``LaunchError`` — nothing
    changed — for a blocked account, bad options or content, a sender the
    account may not use, a foreign group, an empty audience or insufficient
    funds.  ``quoted_total`` is the price the user was shown (at ``tier``): a
    launch that would cost more is refused (``price_changed``) — the user
    agrees to a new price first.  A repeated ``client_id`` returns the first
    campaign unchanged."""
    if account.is_blocked:
        raise LaunchError("Аккаунт заблокирован: отправка недоступна.", code="blocked")
    if client_id:
        existing = Campaign.objects.filter(account=account, client_id=client_id).first()
        if existing:
            return existing
    policy = policy_for(
        account=account,
        channel=channel,
        text=text,
        sender=sender,
        content=content,
        options=options,
        source=source,
        charge=charge,
        tier=tier,
    )
    if not text.strip() and not policy.content.as_dict():
        raise LaunchError("Введите текст сообщения.", field="text")
    if send_at is not None and timezone.is_naive(send_at):
        send_at = timezone.make_aware(send_at)
    audience = _audience(
        account,
        group_ids=group_ids,
        filters=filters,
        phones=phones,
        recipients=recipients,
    )
    own_texts = (
        bool(audience.direct)
        and not audience.group_ids
        and not audience.pasted
        and all(r.text is not None for r in audience.direct)
    )
    if (
        COUPON_COMMAND.search(text)
        and not policy.options.get("promo_action")
        and not own_texts
    ):
        raise LaunchError(
            "В тексте есть [couponCode], но не выбрана промо-акция: выберите акцию "
            "или уберите промокод из текста.",
            code="promo_action_required",
            field="text",
        )
    if not audience.group_ids and not audience.pasted and not audience.direct:
        detail = "; ".join(f"{raw}: {why}" for raw, why in audience.invalid[:5])
        raise LaunchError(
            "Нет получателей" + (f" ({detail})" if detail else "") + ".",
            code="no_recipients",
            field="phones",
        )
    meta = _Meta(
        tags=list(tags or []),
        description=description[:300],
        source=source,
        created_by=created_by,
        send_at=send_at,
        client_id=client_id,
    )
    if audience.inline and not _needs_message_ids(text, policy.options):
        return _launch_small(policy, audience, meta, quoted_total=quoted_total)
    return _launch_held(policy, audience, meta, quoted_total=quoted_total)


@dataclass
class _Meta:
    """What a launch records about the campaign beyond the policy."""

    tags: list[str]
    description: str
    source: str
    created_by: object
    send_at: datetime | None
    client_id: str


def _campaign(policy: Policy, audience: _Audience, meta: _Meta) -> Campaign:
    return Campaign(
        account=policy.account,
        channel=policy.channel,
        source=meta.source,
        sender=policy.sender,
        text=policy.text,
        content=policy.content.as_dict(),
        audience=audience.as_json(),
        tags=meta.tags,
        description=meta.description,
        created_by=meta.created_by,
        send_at=meta.send_at,
        client_id=meta.client_id,
        options=dict(policy.options),
    )


def _charge_reason(policy: Policy, campaign: Campaign) -> str:
    return (
        f"{policy.kind.label}: рассылка #{campaign.pk} "
        f"({campaign.get_source_display()})"
    )


def _hold(
    policy: Policy,
    campaign: Campaign,
    amount: Decimal,
    created_by,
    extras: list[LaunchCharge],
) -> None:
    """Charge the campaign's price and what its channel charges beside the
    messages (call inside the launch transaction)."""
    if amount > 0:
        ledger_post(
            account_id=policy.account.pk,
            amount=-amount,
            kind=LedgerKind.CHARGE,
            reason=_charge_reason(policy, campaign),
            reference=f"campaign:{campaign.pk}",
            created_by=created_by,
            service=policy.kind.service,
        )
    for extra in extras:
        try:
            with transaction.atomic():
                ledger_post(
                    account_id=policy.account.pk,
                    amount=-extra.amount,
                    kind=LedgerKind.CHARGE,
                    reason=f"{extra.reason} (рассылка #{campaign.pk})",
                    reference=extra.reference,
                    created_by=created_by,
                    service=policy.kind.service,
                )
        except DuplicateEntry:
            pass  # paid by a launch that committed first


def _launch_charges(policy: Policy) -> list[LaunchCharge]:
    """What the channel charges at launch beside the messages (if any)."""
    if policy.kind.launch_charges is None or not policy.charge:
        return []
    return [
        c
        for c in policy.kind.launch_charges(policy.account, policy.content)
        if c.amount > 0
    ]


def _insufficient(exc: InsufficientFunds) -> LaunchError:
    return LaunchError(
        f"Недостаточно средств: стоимость {money_ru(exc.needed)}, "
        f"доступно {money_ru(exc.available)}. Пополните баланс.",
        code="insufficient_funds",
    )


def _check_quoted(total: Decimal, quoted_total: Decimal | None) -> None:
    if quoted_total is not None and total > quoted_total:
        raise LaunchError(
            f"Стоимость рассылки изменилась: {money_ru(total)} вместо показанных "
            f"{money_ru(quoted_total)} (изменились получатели или тариф). "
            "Проверьте цену и отправьте ещё раз.",
            code="price_changed",
        )


def _launch_held(
    policy: Policy, audience: _Audience, meta: _Meta, *, quoted_total
) -> Campaign:
    """Hold the planned total, then prepare: inline for a few numbers whose
    texts carry message ids (short links, promo codes), else by a task."""
    planned, _excluded, _lines = _plan_totals(
        policy,
        audience,
        preview_renderer(
            account=policy.account, text=policy.text, options=policy.options
        ),
    )
    extras = _launch_charges(policy)
    _check_quoted(planned.total + sum(c.amount for c in extras), quoted_total)
    campaign = _campaign(policy, audience, meta)
    campaign.options = {
        **campaign.options,
        "audience_estimate": planned.messages,
        "held": str(planned.total),
        "tier": policy.tier,
        "invalid_phones": len(audience.invalid),
        **({} if policy.charge else {"free": True}),
    }
    campaign.status = (
        Campaign.Status.MODERATION if policy.moderation else Campaign.Status.PREPARING
    )
    campaign.cost = planned.total
    try:
        with transaction.atomic():
            campaign.save(force_insert=True)
            counters_init(campaign_id=campaign.pk)
            _hold(policy, campaign, planned.total, meta.created_by, extras)
            if audience.inline:
                _prepare_inline(campaign, policy)
            else:
                transaction.on_commit(lambda: _enqueue_prepare(campaign.pk))
    except InsufficientFunds as exc:
        raise _insufficient(exc) from exc
    campaign.refresh_from_db()
    return campaign


def _needs_message_ids(text: str, options: dict) -> bool:
    """Texts that carry message ids (short links, the chat link, promo codes) go
    through the full preparer, which reserves ids first."""
    return bool(
        options.get("shorten_links")
        or options.get("chat_link")
        or COUPON_COMMAND.search(text)
    )


def _launch_small(
    policy: Policy, audience: _Audience, meta: _Meta, *, quoted_total
) -> Campaign:
    """A handful of numbers (API sends): everything is planned first, then one
    short transaction writes the campaign, its counters and messages and —
    last, so the account row is locked only until the commit — the one ledger
    entry for the exact price."""
    now = timezone.now()
    due = meta.send_at or now
    entries = audience.entries()
    campaign = _campaign(policy, audience, meta)
    planner = Planner(
        policy,
        renderer=build_renderer(campaign),
        timing=SendPlanner(
            start=due,
            total=len(entries),
            smooth=parse_smooth(policy.options.get("smooth")),
            window=parse_window(policy.options.get("window")),
        ),
    )
    recipients = planner.admit(entries)
    if not recipients:
        excluded = {**planner.excluded}
        excluded["invalid"] += len(audience.invalid)
        raise LaunchError(
            excluded_message(excluded), code="no_recipients", field="phones"
        )
    planner.timing.total = len(recipients)
    messages = planner.plan(recipients, now=now)
    planned = planner.planned
    extras = _launch_charges(policy)
    _check_quoted(planned.total + sum(c.amount for c in extras), quoted_total)
    campaign.status = (
        Campaign.Status.MODERATION
        if policy.moderation
        else Campaign.Status.SCHEDULED
        if due > now
        else Campaign.Status.RUNNING
    )
    campaign.options = {
        **campaign.options,
        "audience_estimate": len(entries),
        "held": str(planned.total),
        "tier": policy.tier,
        "invalid_phones": len(audience.invalid),
        "settled": True,
        "prepared_done": True,
    }
    campaign.recipients = len(messages)
    campaign.prepared = len(entries)
    campaign.cost = planned.total
    campaign.started_at = now
    campaign.created_at = now
    try:
        with transaction.atomic():
            campaign.save(force_insert=True)
            CampaignCounter.objects.bulk_create(
                [
                    CampaignCounter(
                        campaign_id=campaign.pk,
                        status=st,
                        count=planned.statuses.get(st, 0),
                    )
                    for st in S.values
                    if st != S.SENDING
                ]
            )
            write_messages(campaign, messages, now)
            _hold(policy, campaign, planned.total, meta.created_by, extras)
            if not policy.moderation:
                channel = policy.channel
                transaction.on_commit(lambda: preparation.enqueue_dispatch(channel))
    except InsufficientFunds as exc:
        raise _insufficient(exc) from exc
    return campaign


def _prepare_inline(campaign: Campaign, policy: Policy) -> None:
    """Prepare a small campaign inside the launch transaction and settle it."""
    preparer = Preparer(campaign, policy=policy)
    entries = [dict(r) for r in campaign.audience.get("recipients", [])] + [
        {"phone": p} for p in campaign.audience.get("phones", [])
    ]
    preparer.write_chunk(entries, len(entries))
    if campaign.recipients == 0:
        excluded = {**preparer.planner.excluded}
        excluded["invalid"] += campaign.options.get("invalid_phones", 0)
        raise LaunchError(
            excluded_message(excluded), code="no_recipients", field="phones"
        )
    campaign_settle(campaign_id=campaign.pk)


def _enqueue_prepare(campaign_id: int) -> None:
    from .tasks import prepare_campaign  # tasks import this module

    prepare_campaign.delay(campaign_id)


def campaign_quote(
    *,
    account: Account,
    channel: str,
    text: str,
    sender: str = "",
    group_ids=None,
    filters=None,
    phones=None,
    recipients=None,
    options=None,
    content=None,
    lines: bool = False,
) -> Quote:
    """The price before sending (nothing is written): the planner over the
    audience — stop-lists, unsubscribes and duplicates out, texts rendered as
    they will be sent (short links, the chat link and promo codes at their real
    length) — at the tariff tier a launch now would hold.  The same figure
    ``campaign_launch`` holds and reports when funds are short."""
    policy = policy_for(
        account=account,
        channel=channel,
        text=text,
        sender=sender,
        content=content,
        options=options,
        moderation=False,
    )
    audience = _audience(
        account,
        group_ids=group_ids,
        filters=filters,
        phones=phones,
        recipients=recipients,
    )
    renderer = preview_renderer(account=account, text=text, options=policy.options)
    planned, excluded, out = _plan_totals(policy, audience, renderer, lines=lines)
    return Quote(
        planned.messages,
        planned.units,
        planned.total,
        excluded,
        tier=policy.tier,
        lines=out,
    )


def campaign_cancel(*, campaign: Campaign, user=None) -> int:
    """Stop what has not been sent and refund it.  Returns messages cancelled."""
    with transaction.atomic():
        current = locked(Campaign.objects.filter(pk=campaign.pk)).get()
        if current.status in (
            Campaign.Status.DONE,
            Campaign.Status.CANCELLED,
            Campaign.Status.REJECTED,
        ):
            rows = []
        else:
            rows = list(
                locked(
                    Message.objects.filter(
                        campaign_id=campaign.pk,
                        status__in=[S.QUEUED, S.DEFERRED, S.MODERATION],
                    ).order_by("id")
                ).values_list("id", "campaign_id", "status")
            )
            set_statuses(
                rows,
                S.CANCELLED,
                channel=current.channel,
                reason="Отменено пользователем",
            )
            Campaign.objects.filter(pk=campaign.pk).update(
                status=Campaign.Status.CANCELLED, finished_at=timezone.now()
            )
    messages_refund(campaign_id=campaign.pk)
    return len(rows)


def campaign_pause(*, campaign: Campaign) -> bool:
    """Stop dispatching a running or scheduled campaign (messages stay queued)."""
    return bool(
        Campaign.objects.filter(
            pk=campaign.pk,
            status__in=[Campaign.Status.RUNNING, Campaign.Status.SCHEDULED],
        ).update(status=Campaign.Status.PAUSED)
    )


def campaign_resume(*, campaign: Campaign) -> bool:
    updated = Campaign.objects.filter(
        pk=campaign.pk, status=Campaign.Status.PAUSED
    ).update(status=Campaign.Status.RUNNING)
    if updated:
        transaction.on_commit(lambda: preparation.enqueue_dispatch(campaign.channel))
    return bool(updated)


def campaign_moderate(
    *, campaign: Campaign, approve: bool, reason: str = "", staff_user=None
) -> None:
    """Staff decision on a campaign in moderation, through the one decision
    service (``cabinet.moderation.decide``): approved messages become due at
    their planned time; a rejected campaign (``reason`` says why) is cancelled
    and refunded; the client is notified (``messaging.moderation``)."""
    from .decisions import campaign_decide

    campaign_decide(
        campaign=campaign, approve=approve, reason_text=reason, staff_user=staff_user
    )


def service_sms_send(*, account: Account, phone: str, text: str) -> Message:
    """A free service message (sign-in codes, notifications) through the normal
    pipeline: never charged, never moderated; the stop-list still applies."""
    campaign = campaign_launch(
        account=account,
        channel="sms",
        text=text,
        phones=[phone],
        source=Source.SYSTEM,
        charge=False,
    )
    return campaign.messages.get()
