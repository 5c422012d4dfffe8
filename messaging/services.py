"""The dispatch pipeline shared by every channel (see docs/ARCHITECTURE.md):

launch (validate, price, charge, write messages) → dispatch (claim due messages
in batches, hand them to the channel's gateway) → receipts (idempotent status
updates; final failures refunded once).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from billing.models import LedgerKind
from billing.selectors import PriceList
from billing.services import InsufficientFunds, ledger_post
from cabinet.models import Account
from contacts.phones import InvalidPhone, lookup, normalize_phone
from contacts.selectors import blocked_phones

from . import registry
from .gateways.base import GatewayError, OutgoingMessage, Receipt
from .models import (
    PENDING_STATUSES,
    REFUNDABLE_STATUSES,
    STATUS_RANK,
    Campaign,
    CampaignCounter,
    Message,
    MessageStatus,
    Source,
)

log = logging.getLogger(__name__)
S = MessageStatus

# A message claimed for submission counts as "queued" (П) in reports: the claim
# is an internal step, so it does not touch the counters.
COUNTER_BUCKET = {S.SENDING: S.QUEUED}
# A claim older than this is considered lost with its worker and is re-submitted
# (the gateway de-duplicates by message id).
STALE_CLAIM = timedelta(minutes=2)
MAX_ATTEMPTS = 5


def bucket(status: str) -> str:
    return COUNTER_BUCKET.get(status, status)


class LaunchError(Exception):
    """A campaign that cannot be launched; ``message`` is for the user."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass
class Recipient:
    phone: str
    country: str = ""
    operator: str = ""
    region: str = ""
    timezone: str = ""
    contact_id: int | None = None
    text: str | None = None  # personalised text, when substitutions apply
    client_ref: str = ""


@dataclass
class PreparedAudience:
    recipients: list[Recipient]
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (raw, reason)
    blocked: list[str] = field(default_factory=list)
    duplicates: int = 0


def audience_from_phones(*, account: Account, channel: str, sender: str,
                         phones: list[str], allow_duplicates: bool = False
                         ) -> PreparedAudience:
    """Normalise pasted numbers, drop invalid ones (with reasons), duplicates and
    every number the stop-list or an unsubscribe forbids."""
    result = PreparedAudience(recipients=[])
    seen: set[str] = set()
    normalised: list[str] = []
    for raw in phones:
        try:
            e164 = normalize_phone(raw)
        except InvalidPhone as exc:
            result.invalid.append((str(raw), exc.reason))
            continue
        if e164 in seen and not allow_duplicates:
            result.duplicates += 1
            continue
        seen.add(e164)
        normalised.append(e164)
    blocked = blocked_phones(account_id=account.pk, channel=channel, sender=sender,
                             phones=normalised)
    for e164 in normalised:
        if e164 in blocked:
            result.blocked.append(e164)
            continue
        info = lookup(e164)
        result.recipients.append(Recipient(
            phone=e164, country=info.country, operator=info.operator,
            region=info.region, timezone=info.timezone,
        ))
    return result


@dataclass
class Quote:
    messages: int
    units: int
    total: Decimal


def quote(*, account: Account, channel: str, text: str, content: dict,
          recipients: list[Recipient]) -> tuple[Quote, list[tuple[int, Decimal]]]:
    """Price every recipient's message; returns the total and (units, price) per
    recipient in order.  One tariff query whatever the audience size."""
    kind = registry.get_channel(channel)
    prices = PriceList(account=account, channel=channel)
    per: list[tuple[int, Decimal]] = []
    units_cache: dict[str, int] = {}
    total = Decimal("0")
    units_total = 0
    for r in recipients:
        body = r.text if r.text is not None else text
        units = units_cache.get(body)
        if units is None:
            units = kind.count_units(body, content)
            units_cache[body] = units
        price = prices.price(r.country or "RU", r.operator) * units
        per.append((units, price))
        total += price
        units_total += units
    return Quote(len(recipients), units_total, total), per


def campaign_launch(
    *,
    account: Account,
    channel: str,
    text: str,
    sender: str = "",
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
) -> Campaign:
    """Validate, price and charge a campaign and write its messages, in one
    transaction; dispatch is enqueued after commit.

    Raises ``LaunchError`` (nothing changed) for a blocked account, an empty
    audience or insufficient funds.  A repeated ``client_id`` returns the first
    campaign unchanged."""
    registry.get_channel(channel)
    if account.is_blocked:
        raise LaunchError("Аккаунт заблокирован: отправка недоступна.", code="blocked")
    if client_id:
        existing = Campaign.objects.filter(account=account, client_id=client_id).first()
        if existing:
            return existing
    sender = sender or settings.DEFAULT_SENDER_NAME
    content = content or {}
    options = options or {}
    if not text.strip() and not content:
        raise LaunchError("Введите текст сообщения.", field="text")
    if recipients is None:
        audience = audience_from_phones(account=account, channel=channel, sender=sender,
                                        phones=phones or [])
        recipients = audience.recipients
        if not recipients:
            reasons = "; ".join(f"{raw}: {why}" for raw, why in audience.invalid[:5])
            if audience.blocked:
                reasons = (reasons + "; " if reasons else "") + "номер в стоп-листе"
            raise LaunchError(
                "Нет получателей" + (f" ({reasons})" if reasons else "") + ".",
                field="phones",
            )
    if not recipients:
        raise LaunchError("Нет получателей.", field="phones")
    now = timezone.now()
    due = send_at or now
    price_quote, per = quote(account=account, channel=channel, text=text,
                             content=content, recipients=recipients)
    ttl = options.get("ttl")
    expires_at = due + timedelta(seconds=int(ttl)) if ttl else None
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                account=account, channel=channel, source=source, sender=sender, text=text,
                content=content, options=options, tags=tags or [], description=description,
                created_by=created_by, send_at=send_at, client_id=client_id,
                recipients=len(recipients), cost=price_quote.total,
                status=Campaign.Status.RUNNING, started_at=now,
            )
            if price_quote.total > 0:
                ledger_post(
                    account_id=account.pk, amount=-price_quote.total, kind=LedgerKind.CHARGE,
                    reason=_charge_reason(campaign), reference=f"campaign:{campaign.pk}",
                    created_by=created_by,
                )
            status = S.QUEUED if due <= now else S.DEFERRED
            Message.objects.bulk_create(
                [
                    Message(
                        account_id=account.pk, campaign=campaign, channel=channel,
                        phone=r.phone, sender=sender,
                        text=r.text if r.text is not None else text,
                        parts=units, price=price, status=status, operator=r.operator,
                        country=r.country, region=r.region, timezone=r.timezone,
                        contact_id=r.contact_id, created_at=now, send_at=due,
                        expires_at=expires_at, client_ref=r.client_ref,
                    )
                    for r, (units, price) in zip(recipients, per, strict=True)
                ],
                batch_size=2000,
            )
            counters_init(campaign_id=campaign.pk, counts={status: len(recipients)})
            transaction.on_commit(lambda: _enqueue_dispatch(channel))
    except InsufficientFunds as exc:
        raise LaunchError(
            f"Недостаточно средств: стоимость {exc.needed} ₽, доступно {exc.available} ₽. "
            "Пополните баланс.", code="insufficient_funds",
        ) from exc
    return campaign


def _charge_reason(campaign: Campaign) -> str:
    label = registry.get_channel(campaign.channel).label
    return f"{label}: рассылка #{campaign.pk} ({campaign.get_source_display()})"


def _enqueue_dispatch(channel: str) -> None:
    from .tasks import dispatch_channel

    dispatch_channel.delay(channel)


# --- counters ---------------------------------------------------------------

def counters_init(*, campaign_id: int, counts: dict[str, int]) -> None:
    """Create the campaign's counter rows (every status of its channel, so later
    updates never race to insert)."""
    CampaignCounter.objects.bulk_create(
        [CampaignCounter(campaign_id=campaign_id, status=s, count=counts.get(s, 0))
         for s in S.values if s not in COUNTER_BUCKET],
        ignore_conflicts=True,
    )


def counters_shift(deltas: dict[tuple[int, str], int]) -> None:
    """Apply counter deltas keyed by (campaign_id, status).  Call inside the
    transaction that changed the statuses."""
    for (campaign_id, status), delta in sorted(deltas.items()):
        if delta:
            CampaignCounter.objects.filter(campaign_id=campaign_id, status=status).update(
                count=F("count") + delta
            )


def campaign_counters(*, campaign_id: int) -> dict[str, int]:
    return dict(
        CampaignCounter.objects.filter(campaign_id=campaign_id).values_list("status", "count")
    )


# --- status changes -----------------------------------------------------------

def _set_statuses(rows: list[tuple[int, int, str]], new_status: str, *, reason: str = "",
                  at: datetime | None = None, extra: dict | None = None) -> None:
    """Move messages (id, campaign_id, old_status) to ``new_status`` and shift
    counters.  Caller holds the rows (claimed or locked) in a transaction."""
    if not rows:
        return
    at = at or timezone.now()
    ids = [r[0] for r in rows]
    fields = {"status": new_status, "status_at": at, **(extra or {})}
    if reason:
        fields["reason"] = reason[:200]
    for chunk in _chunks(ids, 5000):
        Message.objects.filter(id__in=chunk).update(**fields)
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for _id, campaign_id, old in rows:
        if bucket(old) != bucket(new_status):
            deltas[(campaign_id, bucket(old))] -= 1
            deltas[(campaign_id, bucket(new_status))] += 1
    counters_shift(deltas)


def _chunks(seq, size):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def receipts_apply(*, channel: str, receipts: list[Receipt]) -> int:
    """Apply carrier receipts in bulk.  Idempotent: a receipt that would move a
    message backwards (late, repeated, out of order) is ignored, and a final
    status is never overwritten.  Returns how many messages changed."""
    by_message = [r for r in receipts if r.message_id is not None]
    by_gateway = [r for r in receipts if r.message_id is None and r.gateway_id]
    if by_gateway:
        mapping = dict(Message.objects.filter(
            channel=channel, gateway_id__in=[r.gateway_id for r in by_gateway]
        ).values_list("gateway_id", "id"))
        by_message += [
            Receipt(r.status, message_id=mapping[r.gateway_id], reason=r.reason, at=r.at)
            for r in by_gateway if r.gateway_id in mapping
        ]
    if not by_message:
        return 0
    changed = 0
    with transaction.atomic():
        ids = sorted({r.message_id for r in by_message})
        current: dict[int, tuple[int, str]] = {}
        for chunk in _chunks(ids, 5000):
            current.update({
                mid: (cid, st) for mid, cid, st in _locked(
                    Message.objects.filter(id__in=chunk, channel=channel)
                ).values_list("id", "campaign_id", "status")
            })
        # Apply in rank order so "delivered" then "clicked" in one batch both land.
        groups: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
        state = dict(current)
        for r in sorted(by_message, key=lambda r: STATUS_RANK.get(r.status, 0)):
            if r.message_id not in state or r.status not in STATUS_RANK:
                continue
            cid, old = state[r.message_id]
            if old in REFUNDABLE_STATUSES or STATUS_RANK[r.status] <= STATUS_RANK[old]:
                continue
            if old == S.UNDELIVERED and r.status not in (S.CLICKED, S.VIEWED):
                continue
            groups[(r.status, r.reason)].append((r.message_id, cid, old))
            state[r.message_id] = (cid, r.status)
        for (status, reason), rows in groups.items():
            _set_statuses(rows, status, reason=reason)
            changed += len(rows)
    return changed


def _locked(qs):
    """SELECT … FOR UPDATE where the database supports it (SQLite serialises
    writers already)."""
    if connection.features.has_select_for_update:
        return qs.select_for_update()
    return qs


# --- dispatch -----------------------------------------------------------------

def _claim(channel: str, limit: int) -> list[Message]:
    """Atomically move up to ``limit`` due queued messages of running campaigns
    to ``sending``.  The claim is the guard against double sending: a row can be
    claimed by one worker only."""
    now = timezone.now()
    running = Campaign.objects.filter(status=Campaign.Status.RUNNING).values("id")
    base = Message.objects.filter(
        channel=channel, status=S.QUEUED, send_at__lte=now, campaign_id__in=running
    ).order_by("send_at", "id")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            ids = list(base.select_for_update(skip_locked=True, of=("self",))
                       .values_list("id", flat=True)[:limit])
        else:
            ids = list(base.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Message.objects.filter(id__in=ids, status=S.QUEUED).update(
            status=S.SENDING, status_at=now, attempts=F("attempts") + 1
        )
        return list(Message.objects.filter(id__in=ids, status=S.SENDING).only(
            "id", "campaign_id", "account_id", "phone", "sender", "text", "expires_at",
            "attempts", "price",
        ))


def _recover_stale_claims(channel: str) -> int:
    """Messages left in ``sending`` by a worker that died go back to the queue;
    the gateway's idempotency key makes a re-submission harmless."""
    cutoff = timezone.now() - STALE_CLAIM
    return Message.objects.filter(channel=channel, status=S.SENDING,
                                  status_at__lt=cutoff).update(status=S.QUEUED)


def _release_deferred(channel: str) -> int:
    """Deferred messages whose time has come become queued."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(_locked(Message.objects.filter(
            channel=channel, status=S.DEFERRED, send_at__lte=now,
            campaign__status=Campaign.Status.RUNNING,
        )).values_list("id", "campaign_id", "status")[:50000])
        _set_statuses(rows, S.QUEUED)
    return len(rows)


def dispatch_batch(*, channel: str, limit: int | None = None) -> int:
    """Claim one batch and hand it to the gateway.  Returns how many messages
    were claimed (0 = nothing due)."""
    limit = limit or settings.MESSAGING_DISPATCH_BATCH
    batch = _claim(channel, limit)
    if not batch:
        return 0
    now = timezone.now()
    expired = [m for m in batch if m.expires_at and m.expires_at < now]
    live = [m for m in batch if not (m.expires_at and m.expires_at < now)]
    if expired:
        with transaction.atomic():
            _set_statuses([(m.id, m.campaign_id, S.SENDING) for m in expired], S.EXPIRED,
                          reason="Истекло время жизни сообщения")
    gateway = registry.get_gateway(channel)
    outgoing = [OutgoingMessage(id=m.id, phone=m.phone, sender=m.sender, text=m.text,
                                expires_at=m.expires_at) for m in live]
    try:
        results = gateway.submit(outgoing) if outgoing else []
    except GatewayError as exc:
        log.warning("gateway %s failed a batch: %s", channel, exc)
        results_by_id = {}
        _fail_or_retry(live, exc)
    else:
        results_by_id = {r.message_id: r for r in results}
    sent, failed_perm, retry = [], defaultdict(list), []
    for m in live:
        r = results_by_id.get(m.id)
        if r is None:
            continue
        if r.error is None:
            sent.append((m, r.gateway_id))
        elif r.error.permanent or m.attempts >= MAX_ATTEMPTS:
            failed_perm[r.error.message].append(m)
        else:
            retry.append(m)
    with transaction.atomic():
        _mark_sent([(m.id, gateway_id) for m, gateway_id in sent], now)
        for reason, msgs in failed_perm.items():
            _set_statuses([(m.id, m.campaign_id, S.SENDING) for m in msgs], S.FAILED,
                          reason=reason)
        if retry:
            Message.objects.filter(id__in=[m.id for m in retry], status=S.SENDING).update(
                status=S.QUEUED, send_at=now + timedelta(seconds=30))
    receipts = gateway.drain_receipts()
    if receipts:
        receipts_apply(channel=channel, receipts=receipts)
    campaign_ids = {m.campaign_id for m in batch}
    for cid in campaign_ids:
        messages_refund(campaign_id=cid)
        campaign_finish_if_done(campaign_id=cid)
    return len(batch)


def _mark_sent(pairs: list[tuple[int, str]], now: datetime) -> None:
    """Set claimed messages to ``sent`` with their carrier ids, set-based, and
    shift counters for the rows that really moved.  A message a receipt already
    moved past ``sending`` keeps its status.  Call inside a transaction."""
    if not pairs:
        return
    moved: list[int] = []  # campaign id per moved row
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for chunk in _chunks(pairs, 10000):
                cur.execute(
                    "UPDATE messaging_message AS m SET status = %s, sent_at = %s, "
                    "status_at = %s, gateway_id = v.gid "
                    "FROM unnest(%s::bigint[], %s::text[]) AS v(id, gid) "
                    "WHERE m.id = v.id AND m.status = %s RETURNING m.campaign_id",
                    [S.SENT, now, now, [p[0] for p in chunk], [p[1] for p in chunk],
                     S.SENDING],
                )
                moved.extend(row[0] for row in cur.fetchall())
    else:
        gids = dict(pairs)
        for chunk in _chunks(list(gids), 5000):
            rows = list(Message.objects.filter(id__in=chunk, status=S.SENDING)
                        .values_list("id", "campaign_id"))
            Message.objects.bulk_update(
                [Message(id=mid, status=S.SENT, sent_at=now, status_at=now,
                         gateway_id=gids[mid]) for mid, _cid in rows],
                ["status", "sent_at", "status_at", "gateway_id"], batch_size=500,
            )
            moved.extend(cid for _mid, cid in rows)
    shift: dict[tuple[int, str], int] = defaultdict(int)
    for cid in moved:
        shift[(cid, S.QUEUED)] -= 1
        shift[(cid, S.SENT)] += 1
    counters_shift(shift)


def _fail_or_retry(messages: list[Message], exc: GatewayError) -> None:
    now = timezone.now()
    with transaction.atomic():
        if exc.permanent:
            _set_statuses([(m.id, m.campaign_id, S.SENDING) for m in messages], S.FAILED,
                          reason=exc.message)
        else:
            Message.objects.filter(id__in=[m.id for m in messages], status=S.SENDING).update(
                status=S.QUEUED, send_at=now + timedelta(seconds=30))


def dispatch_channel(*, channel: str, max_batches: int = 1000) -> int:
    """Dispatch everything due on a channel, batch by batch."""
    _recover_stale_claims(channel)
    _release_deferred(channel)
    total = 0
    for _ in range(max_batches):
        n = dispatch_batch(channel=channel)
        if not n:
            break
        total += n
    return total


# --- money back ------------------------------------------------------------------

def messages_refund(*, campaign_id: int) -> Decimal:
    """Refund every message of the campaign that never reached the carrier
    (cancelled, expired, failed) and is not refunded yet.  The flag and the
    ledger entry change in one transaction, so each message is refunded once."""
    with transaction.atomic():
        rows = list(_locked(Message.objects.filter(
            campaign_id=campaign_id, status__in=list(REFUNDABLE_STATUSES), refunded=False,
        )).values_list("id", "price"))
        if not rows:
            return Decimal("0")
        total = sum((price for _id, price in rows), Decimal("0"))
        for chunk in _chunks([r[0] for r in rows], 5000):
            Message.objects.filter(id__in=chunk).update(refunded=True)
        campaign = Campaign.objects.get(pk=campaign_id)
        if total > 0:
            ledger_post(
                account_id=campaign.account_id, amount=total, kind=LedgerKind.REFUND,
                reason=f"Возврат за отмененные сообщения (рассылка #{campaign_id}, "
                       f"{len(rows)} шт.)",
            )
            Campaign.objects.filter(pk=campaign_id).update(cost=F("cost") - total)
    return total


def campaign_finish_if_done(*, campaign_id: int) -> None:
    pending = Message.objects.filter(campaign_id=campaign_id,
                                     status__in=list(PENDING_STATUSES)).exists()
    if not pending:
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.RUNNING).update(
            status=Campaign.Status.DONE, finished_at=timezone.now())


def campaign_cancel(*, campaign: Campaign, user=None) -> int:
    """Stop what has not been sent and refund it.  Returns messages cancelled."""
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        rows = list(_locked(Message.objects.filter(
            campaign_id=campaign.pk, status__in=[S.QUEUED, S.DEFERRED, S.MODERATION],
        )).values_list("id", "campaign_id", "status"))
        _set_statuses(rows, S.CANCELLED, reason="Отменено пользователем")
        Campaign.objects.filter(pk=campaign.pk).exclude(status=Campaign.Status.DONE).update(
            status=Campaign.Status.CANCELLED, finished_at=timezone.now())
    messages_refund(campaign_id=campaign.pk)
    campaign_finish_if_done(campaign_id=campaign.pk)
    return len(rows)
