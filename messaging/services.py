"""The dispatch pipeline shared by every channel (docs/DECISIONS.md):

launch (validate, price, hold funds, enqueue prepare) → prepare
(``messaging.prepare``: audience → message rows) → dispatch
(``messaging.dispatch``: claim due messages, hand them to the gateway) → receipts
(``messaging.statuses``: idempotent status updates; final failures refunded once).

This module is the public face: views, the API, the scheduler, scenarios and
events call these functions.
"""

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import LedgerKind
from billing.selectors import PriceList
from billing.services import InsufficientFunds, ledger_post
from cabinet.models import Account
from contacts.phones import InvalidPhone, lookup, normalize_phone
from contacts.selectors import blocked_phones

from . import prepare as preparation
from . import registry
from .dispatch import dispatch_batch, dispatch_channel  # noqa: F401  (public)
from .models import Campaign, CampaignCounter, Message, MessageStatus, Source
from .prepare import Preparer, campaign_settle
from .statuses import (  # noqa: F401  (public)
    campaign_counters,
    campaign_finish_if_done,
    counters_init,
    locked,
    messages_refund,
    receipts_apply,
    set_statuses,
)
from .timing import TimingError, parse_smooth, parse_ttl, parse_window

S = MessageStatus
# Audiences of pasted numbers up to this size are prepared inside the launch
# transaction (an API call for one message answers with its final price);
# larger ones and every group audience are prepared by a task.
INLINE_PREPARE_LIMIT = 2000
COUPON_COMMAND = re.compile(r"\[\s*couponcode\s*\]", re.IGNORECASE)
MAX_PASTED_RECIPIENTS = 100000


class LaunchError(Exception):
    """A campaign that cannot be launched; ``message`` is for the user.  Nothing
    was changed."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass
class Recipient:
    """One recipient given directly (API, scenarios): a phone and, optionally,
    its own text and the integrator's id for it."""

    phone: str
    country: str = ""
    operator: str = ""
    region: str = ""
    timezone: str = ""
    contact_id: int | None = None
    text: str | None = None
    client_ref: str = ""


@dataclass
class Quote:
    messages: int
    units: int
    total: Decimal
    excluded: dict = field(default_factory=dict)


def _validated_options(options: dict) -> dict:
    try:
        parse_smooth(options.get("smooth"))
        parse_window(options.get("window"))
        parse_ttl(options.get("ttl"))
    except TimingError as exc:
        raise LaunchError(str(exc), field="options") from exc
    return options


def _validated_content(account: Account, kind, text: str, content) -> dict:
    """The channel's content, validated alone and with the text (``as_dict``)."""
    try:
        parsed = kind.parse_content(content, account_id=account.pk)
        kind.check(text, parsed)
    except registry.ContentError as exc:
        raise LaunchError(exc.message, code="invalid_content", field=exc.field) from exc
    return parsed.as_dict()


def _validated_sender(account: Account, channel: str, sender: str) -> str:
    try:
        from .senders import SenderNotAllowed, sender_validate
    except ImportError:  # the sender-name registry is optional for a channel
        return sender or settings.DEFAULT_SENDER_NAME
    try:
        return sender_validate(account=account, channel=channel, sender=sender)
    except SenderNotAllowed as exc:
        raise LaunchError(str(exc), code="sender_not_allowed", field="sender") from exc


def _needs_moderation(account: Account, channel: str, text: str) -> bool:
    try:
        from .moderation import needs_moderation
    except ImportError:
        return False
    return needs_moderation(account=account, channel=channel, text=text)


def _normalise_phones(phones: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    good, bad = [], []
    for raw in phones:
        try:
            good.append(normalize_phone(raw))
        except InvalidPhone as exc:
            bad.append((str(raw), exc.reason))
    return good, bad


def _group_ids(account: Account, group_ids) -> list[int]:
    if not group_ids:
        return []
    from contacts.models import Group
    from contacts.selectors import groups_owned

    try:
        ids = sorted({int(g) for g in group_ids})
        groups_owned(account_id=account.pk, group_ids=ids)
    except (TypeError, ValueError, Group.DoesNotExist) as exc:
        raise LaunchError(
            "Группа не найдена.", code="not_found", field="group_ids"
        ) from exc
    return ids


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
) -> Campaign:
    """Validate a campaign, hold its price and start preparing it.

    Small audiences of pasted numbers are prepared in the same transaction;
    others by a task after commit (the hold is settled against the real price
    then).  Raises ``LaunchError`` — nothing changed — for a blocked account, bad
    options, a foreign group, an empty audience or insufficient funds.  A
    repeated ``client_id`` returns the first campaign unchanged."""
    kind = registry.get_channel(channel)
    if account.is_blocked:
        raise LaunchError("Аккаунт заблокирован: отправка недоступна.", code="blocked")
    if client_id:
        existing = Campaign.objects.filter(account=account, client_id=client_id).first()
        if existing:
            return existing
    content = _validated_content(account, kind, text, content)
    options = _validated_options(dict(options or {}))
    if not text.strip() and not content:
        raise LaunchError("Введите текст сообщения.", field="text")
    if send_at is not None and timezone.is_naive(send_at):
        send_at = timezone.make_aware(send_at)
    sender = (
        _validated_sender(account, channel, sender)
        if source != Source.SYSTEM
        else (sender or settings.DEFAULT_SENDER_NAME)
    )
    variant = kind.variant(account, sender, text, content)
    ids = _group_ids(account, group_ids)
    pasted, invalid = _normalise_phones(phones or [])
    direct = list(recipients or [])
    if len(pasted) + len(direct) > MAX_PASTED_RECIPIENTS:
        raise LaunchError(
            f"Слишком много номеров в одном запросе: не более {MAX_PASTED_RECIPIENTS}.",
            code="too_many",
            field="phones",
        )
    own_texts = (
        bool(direct)
        and not ids
        and not pasted
        and all(r.text is not None for r in direct)
    )
    if (
        COUPON_COMMAND.search(text)
        and not options.get("promo_action")
        and not own_texts
    ):
        raise LaunchError(
            "В тексте есть [couponCode], но не выбрана промо-акция: выберите акцию "
            "или уберите промокод из текста.",
            code="promo_action_required",
            field="text",
        )
    if not ids and not pasted and not direct:
        detail = "; ".join(f"{raw}: {why}" for raw, why in invalid[:5])
        raise LaunchError(
            "Нет получателей" + (f" ({detail})" if detail else "") + ".",
            code="no_recipients",
            field="phones",
        )
    inline = not ids and len(pasted) + len(direct) <= INLINE_PREPARE_LIMIT
    moderation = source != Source.SYSTEM and _needs_moderation(account, channel, text)
    audience = {
        "group_ids": ids,
        "filters": filters or {},
        "phones": pasted,
        "recipients": [asdict(r) for r in direct],
    }
    if inline and not _needs_message_ids(text, options):
        return _launch_small(
            account=account,
            kind=kind,
            channel=channel,
            text=text,
            sender=sender,
            content=content,
            options=options,
            audience=audience,
            invalid=invalid,
            tags=tags,
            description=description,
            source=source,
            created_by=created_by,
            send_at=send_at,
            client_id=client_id,
            charge=charge,
            moderation=moderation,
            variant=variant,
        )
    estimate = _estimate(
        account, kind, channel, text, content, ids, filters, pasted, direct, variant
    )
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                account=account,
                channel=channel,
                source=source,
                sender=sender,
                text=text,
                content=content,
                options={
                    **options,
                    "audience_estimate": estimate[0],
                    "held": str(estimate[1] if charge else 0),
                    "invalid_phones": len(invalid),
                },
                audience=audience,
                tags=list(tags or []),
                description=description[:300],
                created_by=created_by,
                send_at=send_at,
                client_id=client_id,
                status=Campaign.Status.MODERATION
                if moderation
                else Campaign.Status.PREPARING,
                cost=estimate[1] if charge else Decimal("0"),
            )
            counters_init(campaign_id=campaign.pk)
            if charge and estimate[1] > 0:
                ledger_post(
                    account_id=account.pk,
                    amount=-estimate[1],
                    kind=LedgerKind.CHARGE,
                    reason=f"{kind.label}: рассылка #{campaign.pk} "
                    f"({campaign.get_source_display()})",
                    reference=f"campaign:{campaign.pk}",
                    created_by=created_by,
                    service=channel,
                )
            if inline:
                _prepare_inline(campaign, charge=charge)
            else:
                transaction.on_commit(lambda: _enqueue_prepare(campaign.pk))
    except InsufficientFunds as exc:
        raise LaunchError(
            f"Недостаточно средств: стоимость {exc.needed} ₽, "
            f"доступно {exc.available} ₽. "
            "Пополните баланс.",
            code="insufficient_funds",
        ) from exc
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
    *,
    account,
    kind,
    channel,
    text,
    sender,
    content,
    options,
    audience,
    invalid,
    tags,
    description,
    source,
    created_by,
    send_at,
    client_id,
    charge,
    moderation,
    variant="",
) -> Campaign:
    """The fast path for a handful of numbers (API sends): everything is
    computed first, then one short transaction writes the campaign, its
    counters and messages and — last, so the account row is locked only until
    the commit — the one ledger entry for the exact price."""
    from .prepare import write_messages
    from .rendering import build_renderer
    from .timing import SendPlanner

    now = timezone.now()
    due = send_at or now
    entries = [dict(r) for r in audience["recipients"]] + [
        {"phone": p} for p in audience["phones"]
    ]
    blocked = blocked_phones(
        account_id=account.pk,
        channel=channel,
        sender=sender,
        phones=[e["phone"] for e in entries],
    )
    skipped = {"invalid": len(invalid), "blocked": 0, "duplicates": 0}
    seen: set[str] = set()
    allow_duplicates = bool(options.get("allow_duplicates"))
    recipients = []
    for entry in entries:
        phone = entry["phone"]
        if not phone.startswith("+"):
            try:
                phone = normalize_phone(phone)
            except InvalidPhone:
                skipped["invalid"] += 1
                continue
        if phone in blocked:
            skipped["blocked"] += 1
            continue
        if phone in seen and not allow_duplicates:
            skipped["duplicates"] += 1
            continue
        seen.add(phone)
        if not entry.get("country"):
            info = lookup(phone)
            entry = {
                **entry,
                "country": info.country,
                "operator": info.operator,
                "region": info.region,
                "timezone": info.timezone,
            }
        recipients.append({**entry, "phone": phone})
    if not recipients:
        raise LaunchError(
            _excluded_message(skipped), code="no_recipients", field="phones"
        )
    campaign = Campaign(
        account=account,
        channel=channel,
        source=source,
        sender=sender,
        text=text,
        content=content,
        audience=audience,
        tags=list(tags or []),
        description=description[:300],
        created_by=created_by,
        send_at=send_at,
        client_id=client_id,
        options=dict(options),
    )
    renderer = build_renderer(campaign)
    prices = PriceList(account=account, channel=channel, variant=variant)
    planner = SendPlanner(
        start=due,
        total=len(recipients),
        smooth=parse_smooth(options.get("smooth")),
        window=parse_window(options.get("window")),
    )
    ttl = parse_ttl(options.get("ttl"))
    messages, counts, total = [], {}, Decimal("0")
    for index, r in enumerate(recipients):
        body = r["text"] if r.get("text") is not None else renderer.render(r, None)
        units = kind.count_units(body, content)
        price = (
            prices.price(r["country"] or "RU", r.get("operator") or "") * units
            if charge
            else Decimal("0")
        )
        planned = planner.send_at(index, r.get("timezone") or "")
        status = (
            S.MODERATION if moderation else (S.QUEUED if planned <= now else S.DEFERRED)
        )
        counts[status] = counts.get(status, 0) + 1
        total += price
        expires = planned + timedelta(seconds=ttl) if ttl else None
        messages.append((None, body, units, price, status, planned, expires, r))
    campaign.status = (
        Campaign.Status.MODERATION
        if moderation
        else Campaign.Status.SCHEDULED
        if due > now
        else Campaign.Status.RUNNING
    )
    campaign.options = {
        **options,
        "audience_estimate": len(entries),
        "held": str(total),
        "invalid_phones": len(invalid),
        "settled": True,
        "prepared_done": True,
    }
    campaign.recipients = len(messages)
    campaign.prepared = len(entries)
    campaign.cost = total
    campaign.started_at = now
    campaign.created_at = now
    try:
        with transaction.atomic():
            campaign.save(force_insert=True)
            CampaignCounter.objects.bulk_create(
                [
                    CampaignCounter(
                        campaign_id=campaign.pk, status=st, count=counts.get(st, 0)
                    )
                    for st in S.values
                    if st != S.SENDING
                ]
            )
            write_messages(campaign, messages, now)
            if total > 0:
                ledger_post(
                    account_id=account.pk,
                    amount=-total,
                    kind=LedgerKind.CHARGE,
                    reason=f"{kind.label}: рассылка #{campaign.pk} "
                    f"({campaign.get_source_display()})",
                    reference=f"campaign:{campaign.pk}",
                    created_by=created_by,
                    service=channel,
                )
            if not moderation:
                transaction.on_commit(lambda: preparation.enqueue_dispatch(channel))
    except InsufficientFunds as exc:
        raise LaunchError(
            f"Недостаточно средств: стоимость {exc.needed} ₽, "
            f"доступно {exc.available} ₽. Пополните баланс.",
            code="insufficient_funds",
        ) from exc
    return campaign


def _prepare_inline(campaign: Campaign, *, charge: bool) -> None:
    """Prepare a small campaign inside the launch transaction and settle it."""
    preparer = Preparer(campaign)
    entries = [dict(r) for r in campaign.audience.get("recipients", [])] + [
        {"phone": p} for p in campaign.audience.get("phones", [])
    ]
    preparer.write_chunk(entries, len(entries))
    if campaign.recipients == 0:
        raise LaunchError(
            _excluded_message(preparer.skipped), code="no_recipients", field="phones"
        )
    if not charge:
        Message.objects.filter(campaign_id=campaign.pk).update(price=Decimal("0"))
    campaign_settle(campaign_id=campaign.pk)


def _excluded_message(skipped: dict) -> str:
    parts = []
    if skipped.get("blocked"):
        parts.append("номер в стоп-листе или отписался")
    if skipped.get("invalid"):
        parts.append("неверный номер")
    if skipped.get("duplicates"):
        parts.append("повторяющийся номер")
    return "Нет получателей" + (f" ({', '.join(parts)})" if parts else "") + "."


def _enqueue_prepare(campaign_id: int) -> None:
    from .tasks import prepare_campaign

    prepare_campaign.delay(campaign_id)


def _estimate(
    account, kind, channel, text, content, group_ids, filters, pasted, direct, variant
) -> tuple[int, Decimal]:
    """(recipients, price) held at launch: exact for pasted numbers, an upper
    estimate for groups (settled after preparation)."""
    prices = PriceList(account=account, channel=channel, variant=variant)
    total = Decimal("0")
    count = 0
    base_units = kind.count_units(text, content)
    for phone in pasted:
        info = lookup(phone)
        total += prices.price(info.country, info.operator) * base_units
        count += 1
    for r in direct:
        units = kind.count_units(r.text if r.text is not None else text, content)
        country, operator = r.country, r.operator
        if not country:
            info = lookup(r.phone)
            country, operator = info.country, info.operator
        total += prices.price(country or "RU", operator) * units
        count += 1
    if group_ids:
        from contacts.selectors import audience_count

        n = audience_count(
            account_id=account.pk, group_ids=group_ids, filters=filters or None
        )
        count += n
        total += prices.price("RU", "") * base_units * n
    return count, total


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
) -> Quote:
    """The price before sending (nothing is written): the audience after
    stop-lists and duplicates, texts rendered as they will be sent."""
    kind = registry.get_channel(channel)
    _validated_options(dict(options or {}))
    content = _validated_content(account, kind, text, content)
    sender = sender or kind.default_sender()
    ids = _group_ids(account, group_ids)
    pasted, invalid = _normalise_phones(phones or [])
    prices = PriceList(
        account=account,
        channel=channel,
        variant=kind.variant(account, sender, text, content),
    )
    blocked = blocked_phones(account_id=account.pk, channel=channel, sender=sender)
    from .rendering import preview_renderer

    # Short links, the chat link and promo codes rendered at their real length.
    renderer = preview_renderer(account=account, text=text, options=options or {})
    seen: set[str] = set()
    units_total, total, count = 0, Decimal("0"), 0
    excluded = {"invalid": len(invalid), "blocked": 0, "duplicates": 0}
    units_of: dict[str, int] = {}  # one count per distinct text

    def add(entry: dict, own_text: str | None = None):
        nonlocal units_total, total, count
        phone = entry["phone"]
        if phone in blocked:
            excluded["blocked"] += 1
            return
        if phone in seen and not (options or {}).get("allow_duplicates"):
            excluded["duplicates"] += 1
            return
        seen.add(phone)
        body = own_text if own_text is not None else renderer.render(entry, None)
        units = units_of.get(body)
        if units is None:
            units = units_of[body] = kind.count_units(body, content or {})
        country, operator = entry.get("country"), entry.get("operator")
        if not country:
            info = lookup(phone)
            country, operator = info.country, info.operator
        total += prices.price(country or "RU", operator or "") * units
        units_total += units
        count += 1

    for phone in pasted:
        add({"phone": phone})
    for r in recipients or []:
        add(asdict(r), r.text)
    if ids:
        from contacts.selectors import audience_iter

        from .prepare import STATIC_FIELDS

        # The same text for everyone needs only the numbers and their operators.
        for chunk in audience_iter(
            account_id=account.pk,
            group_ids=ids,
            filters=filters or None,
            fields=STATIC_FIELDS if renderer.static else None,
        ):
            for entry in chunk:
                add(entry)
    return Quote(count, units_total, total, excluded)


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
    """Staff decision on a campaign in moderation: approved messages become due
    at their planned time; a rejected campaign is cancelled and refunded."""
    from cabinet.services import notification_create

    with transaction.atomic():
        current = locked(Campaign.objects.filter(pk=campaign.pk)).get()
        if current.status != Campaign.Status.MODERATION:
            return
        rows = list(
            locked(
                Message.objects.filter(
                    campaign_id=campaign.pk, status=S.MODERATION
                ).order_by("id")
            ).values_list("id", "campaign_id", "status")
        )
        if approve:
            set_statuses(rows, S.DEFERRED, channel=current.channel)
            Campaign.objects.filter(pk=campaign.pk).update(
                status=Campaign.Status.RUNNING,
                started_at=timezone.now(),
                moderation_note=reason[:300] or "Успешно",
            )
            transaction.on_commit(lambda: preparation.enqueue_dispatch(current.channel))
            title = f"Рассылка #{campaign.pk} прошла модерацию"
        else:
            set_statuses(
                rows,
                S.CANCELLED,
                channel=current.channel,
                reason=f"Отклонено модератором: {reason}"[:200],
            )
            Campaign.objects.filter(pk=campaign.pk).update(
                status=Campaign.Status.REJECTED,
                finished_at=timezone.now(),
                moderation_note=reason[:300],
            )
            title = f"Рассылка #{campaign.pk} отклонена модератором"
        notification_create(
            account_id=current.account_id, kind="moderation", title=title, body=reason
        )
    if not approve:
        messages_refund(campaign_id=campaign.pk)


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
