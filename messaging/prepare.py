"""Prepare: audience → message rows.

Streams the audience (groups, a filtered group, pasted numbers) in chunks,
removes duplicates and everything the stop-list or an unsubscribe forbids,
renders each text, counts units, prices each message, plans its send time and
writes the rows in bulk — PostgreSQL ``COPY`` where available.  Each chunk is one
transaction that also advances ``Campaign.prepared`` (the number of audience
entries consumed), so a retried task resumes where the last one committed and
never writes a recipient twice.
"""

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing.models import LedgerKind
from billing.services import ledger_post
from cabinet.notifications import notify
from contacts.selectors import audience_iter

from . import registry
from .models import Campaign, Message, MessageStatus
from .planning import (
    LaunchError,
    Planner,
    Policy,
    policy_for,
    priced_audience_sql,
    set_based,
)
from .rendering import build_renderer
from .statuses import (
    campaign_finish_if_done,
    counters_shift,
    locked,
    messages_refund,
    set_statuses,
)
from .timing import SendPlanner, parse_smooth, parse_window

log = logging.getLogger(__name__)
S = MessageStatus
CHUNK = 20000
# write_chunk's answers besides a count: the campaign stopped being prepared
# (cancelled), or another task is preparing it (this one must leave quietly).
STOPPED = -1
ELSEWHERE = -2

MESSAGE_COLUMNS = (
    "account_id",
    "campaign_id",
    "channel",
    "phone",
    "sender",
    "text",
    "parts",
    "price",
    "status",
    "reason",
    "operator",
    "country",
    "region",
    "timezone",
    "contact_id",
    "created_at",
    "send_at",
    "expires_at",
    "gateway_id",
    "attempts",
    "refunded",
    "client_ref",
)


# What prepare needs of a contact when the text is the same for everyone.
STATIC_FIELDS = ("phone", "operator", "country", "region", "timezone")


def audience_entries(
    campaign: Campaign, *, start: int = 0, fields=None
) -> Iterator[list[dict]]:
    """The campaign's audience as chunks of recipient dicts (contact fields and
    ``phone``), from position ``start``.  Pasted numbers come first, then
    groups."""
    audience = campaign.audience or {}
    position = 0
    raw_recipients = audience.get("recipients") or []
    phones = audience.get("phones") or []
    pasted = [dict(r) for r in raw_recipients] + [{"phone": p} for p in phones]
    for i in range(0, len(pasted), CHUNK):
        chunk = pasted[i : i + CHUNK]
        if position + len(chunk) > start:
            yield chunk[max(0, start - position) :]
        position += len(chunk)
    group_ids = audience.get("group_ids") or []
    if group_ids:
        for chunk in audience_iter(
            account_id=campaign.account_id,
            group_ids=group_ids,
            filters=audience.get("filters") or None,
            chunk_size=CHUNK,
            fields=fields,
        ):
            if position + len(chunk) > start:
                yield chunk[max(0, start - position) :]
            position += len(chunk)


class Preparer:
    """Writes one campaign's messages through the planner, at the policy fixed
    at launch (its tariff tier, sender and content).  Construct per task run."""

    def __init__(self, campaign: Campaign, *, policy: Policy | None = None):
        self.campaign = campaign
        self.account = campaign.account
        options = campaign.options or {}
        self.policy = policy or policy_for(
            account=self.account,
            channel=campaign.channel,
            text=campaign.text,
            sender=campaign.sender,
            content=campaign.content,
            options=options,
            charge=not options.get("free"),
            tier=options.get("tier"),
            moderation=campaign.status == Campaign.Status.MODERATION,
            validate=False,
        )
        self.renderer = build_renderer(campaign)
        seen = ()
        if campaign.prepared:
            seen = Message.objects.filter(campaign_id=campaign.pk).values_list(
                "phone", flat=True
            )
        self.planner = Planner(
            self.policy,
            renderer=self.renderer,
            timing=SendPlanner(
                start=campaign.send_at or campaign.created_at,
                total=max(options.get("audience_estimate") or 0, 1),
                smooth=parse_smooth(options.get("smooth")),
                window=parse_window(options.get("window")),
            ),
            initial_status=(
                S.MODERATION if campaign.status == Campaign.Status.MODERATION else None
            ),
            seen=seen,
            index=campaign.recipients,
        )

    def write_chunk(self, entries: list[dict], consumed: int) -> int:
        """One transaction: plan and write the messages of ``entries`` and
        advance the campaign's position by ``consumed``.  Returns messages
        written, ``STOPPED`` when the campaign is no longer being prepared, or
        ``ELSEWHERE`` when another task moved its position."""
        now = timezone.now()
        with transaction.atomic():
            current = (
                locked(Campaign.objects.filter(pk=self.campaign.pk))
                .values_list("status", "prepared")
                .get()
            )
            if current[0] not in (
                Campaign.Status.PREPARING,
                Campaign.Status.MODERATION,
            ):
                return STOPPED
            if current[1] != self.campaign.prepared:
                return ELSEWHERE
            recipients = self.planner.admit(entries)
            ids = allocate_ids(len(recipients)) if not self.renderer.static else None
            before = dict(self.planner.planned.statuses)
            messages = self.planner.plan(recipients, now=now, ids=ids)
            write_messages(self.campaign, messages, now)
            self.renderer.flush()
            after = self.planner.planned.statuses
            counters_shift(
                {(self.campaign.pk, s): n - before.get(s, 0) for s, n in after.items()}
            )
            Campaign.objects.filter(pk=self.campaign.pk).update(
                prepared=F("prepared") + consumed,
                recipients=F("recipients") + len(messages),
                heartbeat_at=now,
            )
            self.campaign.prepared += consumed
            self.campaign.recipients += len(messages)
        return len(messages)


def allocate_ids(n: int) -> list[int]:
    """Reserve ``n`` message ids before writing, so texts can carry them (short
    links, promo codes).  Call inside the writing transaction."""
    if n == 0:
        return []
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence('messaging_message', 'id')) "
                "FROM generate_series(1, %s)",
                [n],
            )
            return [row[0] for row in cur.fetchall()]
        # SQLite: writers are serialised, so max(id) is stable inside the
        # transaction.
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM messaging_message")
        first = cur.fetchone()[0] + 1
        return list(range(first, first + n))


def write_messages(campaign: Campaign, messages: list[tuple], now: datetime) -> None:
    if not messages:
        return
    with_ids = messages[0][0] is not None
    # client_key: the caller's replay digest of a recipient given directly
    # (Recipient.client_key); other writers leave the column's default.
    columns = (("id",) if with_ids else ()) + MESSAGE_COLUMNS + ("client_key",)

    def values(m):
        mid, text, units, price, status, send_at, expires_at, r = m
        row = (
            campaign.account_id,
            campaign.pk,
            campaign.channel,
            r["phone"],
            campaign.sender,
            text,
            units,
            price,
            status,
            "",
            r.get("operator") or "",
            r.get("country") or "",
            r.get("region") or "",
            r.get("timezone") or "",
            r.get("contact_id"),
            now,
            send_at,
            expires_at,
            "",
            0,
            False,
            r.get("client_ref") or "",
            r.get("client_key") or "",
        )
        return ((mid,) + row) if with_ids else row

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            sql = f"COPY messaging_message ({', '.join(columns)}) FROM STDIN"
            with cur.cursor.copy(sql) as copy:
                for m in messages:
                    copy.write_row(values(m))
        return
    Message.objects.bulk_create(
        [Message(**dict(zip(columns, values(m), strict=True))) for m in messages],
        batch_size=1000,
    )


def campaign_prepare(*, campaign_id: int) -> None:
    """Prepare a campaign's messages (idempotent, resumable), then settle the
    money held at launch against the real price and let dispatch begin."""
    campaign = Campaign.objects.select_related("account").get(pk=campaign_id)
    if campaign.status in (
        Campaign.Status.PREPARING,
        Campaign.Status.MODERATION,
    ) and not campaign.options.get("prepared_done"):
        try:
            preparer = Preparer(campaign)
            if prepare_in_database(preparer):
                campaign_settle(campaign_id=campaign_id)
                return
            fields = STATIC_FIELDS if preparer.renderer.static else None
            for entries in audience_entries(
                campaign, start=campaign.prepared, fields=fields
            ):
                written = preparer.write_chunk(entries, len(entries))
                if written == ELSEWHERE:
                    return
                if written == STOPPED:
                    break
        except LaunchError as exc:
            # Found only now (e.g. a promo action cannot issue enough codes): the
            # campaign stops, nothing is sent, the hold comes back at settlement.
            campaign_abort(campaign=campaign, reason=exc.message)
    campaign_settle(campaign_id=campaign_id)


def prepare_in_database(preparer: "Preparer") -> bool:
    """The common case — one text for everyone, groups as the audience, no smooth
    sending or window — as ONE ``INSERT … SELECT`` inside PostgreSQL over the
    planner's compiled form (``planning.priced_audience_sql``): the audience
    never travels to Python.  The statement is atomic, so a retried task either
    finds it done or does it whole.  Returns False (nothing done) when the
    campaign needs the per-recipient path."""
    campaign = preparer.campaign
    planner = preparer.planner
    if not (
        set_based(preparer.renderer, campaign.audience or {})
        and campaign.prepared == 0
        and planner.timing.smooth is None
        and planner.timing.window is None
    ):
        return False
    policy = preparer.policy
    audience = campaign.audience
    text = policy.message_text(preparer.renderer.render({}, None))
    units = policy.units(text)
    now = timezone.now()
    send_at = planner.timing.send_at(0, "")
    status = planner.initial_status or (S.QUEUED if send_at <= now else S.DEFERRED)
    expires_at = send_at + timedelta(seconds=planner.ttl) if planner.ttl else None
    priced_sql, priced_params = priced_audience_sql(
        policy,
        group_ids=audience["group_ids"],
        filters=audience.get("filters"),
        units=units,
    )
    with transaction.atomic():
        current = (
            locked(Campaign.objects.filter(pk=campaign.pk))
            .values_list("status", "prepared")
            .get()
        )
        if current[0] not in (Campaign.Status.PREPARING, Campaign.Status.MODERATION):
            return True
        if current[1] != 0:
            return True  # another task did it
        with connection.cursor() as cur:
            cur.execute(
                f"""
                INSERT INTO messaging_message ({", ".join(MESSAGE_COLUMNS)})
                SELECT %s, %s, %s, f.phone, %s, %s, %s, f.price,
                       %s, '', f.operator, f.country, f.region, f.timezone, f.id,
                       %s, %s, %s, '', 0, false, ''
                FROM ({priced_sql}) f
                WHERE f.admitted
                ORDER BY f.id
                """,
                [
                    campaign.account_id,
                    campaign.pk,
                    campaign.channel,
                    campaign.sender,
                    text,
                    units,
                    status,
                    now,
                    send_at,
                    expires_at,
                    *priced_params,
                ],
            )
            written = cur.rowcount
        counters_shift({(campaign.pk, status): written})
        # ``prepared`` counts messages here: the audience was consumed whole.
        Campaign.objects.filter(pk=campaign.pk).update(
            prepared=written, recipients=written, heartbeat_at=now
        )
    return True


def campaign_abort(*, campaign: Campaign, reason: str) -> None:
    """Cancel a campaign that cannot be prepared, with the reason, and tell the
    client."""
    with transaction.atomic():
        locked(Campaign.objects.filter(pk=campaign.pk)).get()
        rows = list(
            locked(
                Message.objects.filter(
                    campaign_id=campaign.pk,
                    status__in=[S.QUEUED, S.DEFERRED, S.MODERATION],
                ).order_by("id")
            ).values_list("id", "campaign_id", "status")
        )
        set_statuses(rows, S.CANCELLED, channel=campaign.channel, reason=reason[:200])
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.CANCELLED,
            finished_at=timezone.now(),
            moderation_note=reason[:300],
        )
        notify(
            account_id=campaign.account_id,
            kind="info",
            title=f"Рассылка #{campaign.pk} не отправлена",
            body=reason,
        )


def campaign_settle(*, campaign_id: int) -> None:
    """After preparation: settle the money held at launch against the price of
    the written messages, once (ledger reference ``campaign:<id>:settle``), and
    start the campaign.  The campaign is never charged more than was held (the
    price the user was shown): if the audience grew since, the last messages
    are cancelled instead; the rest of the hold goes back."""
    with transaction.atomic():
        campaign = locked(Campaign.objects.filter(pk=campaign_id)).get()
        if campaign.options.get("settled"):
            return
        actual = Message.objects.filter(campaign_id=campaign_id).aggregate(
            s=Sum("price")
        )["s"] or Decimal("0")
        held = Decimal(campaign.options.get("held", "0"))
        if actual > held:
            actual -= _cut_to_hold(campaign, actual - held)
        if actual < held:
            ledger_post(
                account_id=campaign.account_id,
                amount=held - actual,
                kind=LedgerKind.REFUND,
                reason=f"Перерасчёт стоимости рассылки #{campaign.pk} после "
                "подготовки сообщений",
                reference=f"campaign:{campaign.pk}:settle",
                service=registry.get_channel(campaign.channel).service,
            )
        now = timezone.now()
        options = {**campaign.options, "settled": True, "prepared_done": True}
        fields = {"options": options, "cost": actual}
        if campaign.status == Campaign.Status.PREPARING:
            due = campaign.send_at or now
            fields["status"] = (
                Campaign.Status.SCHEDULED if due > now else Campaign.Status.RUNNING
            )
            fields["started_at"] = now
        Campaign.objects.filter(pk=campaign_id).update(**fields)
        if fields.get("status") in (Campaign.Status.RUNNING, Campaign.Status.SCHEDULED):
            transaction.on_commit(lambda: enqueue_dispatch(campaign.channel))
    messages_refund(campaign_id=campaign_id)
    _analyze_after_bulk_load(campaign_id)
    if not Message.objects.filter(campaign_id=campaign_id).exists():
        campaign_finish_if_done(campaign_id=campaign_id)


ANALYZE_AFTER = 50000


def _analyze_after_bulk_load(campaign_id: int) -> None:
    """A big campaign changes the message table's shape faster than autovacuum
    notices; fresh statistics keep the planner on the indexes for the claims and
    receipts that follow."""
    if connection.vendor != "postgresql":
        return
    if Campaign.objects.filter(pk=campaign_id, recipients__gte=ANALYZE_AFTER).exists():
        with connection.cursor() as cur:
            cur.execute("ANALYZE messaging_message")


def _cut_to_hold(campaign: Campaign, excess: Decimal) -> Decimal:
    """Cancel the campaign's last messages (never charged: marked refunded)
    until their price covers ``excess``.  Returns the price cut."""
    cut_total, cut_rows = Decimal("0"), []
    for mid, price, status in (
        Message.objects.filter(campaign_id=campaign.pk)
        .order_by("-id")
        .values_list("id", "price", "status")
        .iterator(chunk_size=5000)
    ):
        if cut_total >= excess:
            break
        cut_total += price
        cut_rows.append((mid, campaign.pk, status))
    set_statuses(
        cut_rows,
        S.CANCELLED,
        channel=campaign.channel,
        reason="Сверх оплаченной суммы: аудитория выросла после расчёта стоимости",
        extra={"refunded": True},
    )
    return cut_total


def enqueue_dispatch(channel: str) -> None:
    from .tasks import dispatch_channel  # tasks import this module

    dispatch_channel.delay(channel)


class DispatchNudge:
    """``enqueue_dispatch`` at most once per ``interval`` seconds per channel from
    this process, plus one trailing call after a suppressed one.  Every caller
    is therefore followed by a dispatch task enqueued after its call (so after
    its commit): a message is never left waiting for the periodic sweep, and a
    stream of one-message sends costs a few tasks per second, not one each."""

    def __init__(self, interval: float):
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._armed: set[str] = set()

    def __call__(self, channel: str) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._last.get(channel, -self.interval) + self.interval - now
            if wait <= 0:
                self._last[channel] = now
            elif channel in self._armed:
                return
            else:
                self._armed.add(channel)
                timer = threading.Timer(wait, self._trail, args=(channel,))
                timer.daemon = True
                timer.start()
                return
        enqueue_dispatch(channel)

    def _trail(self, channel: str) -> None:
        with self._lock:
            self._armed.discard(channel)
            self._last[channel] = time.monotonic()
        try:
            enqueue_dispatch(channel)
        except Exception:  # the periodic sweep (dispatch_all) still runs
            log.exception("trailing dispatch enqueue failed for %s", channel)


nudge_dispatch = DispatchNudge(settings.DISPATCH_NUDGE_INTERVAL)
