"""The scenario engine (ARCHITECTURE.md "Wave 2": scenarios run on the same
engine).  Per recipient: step k is sent through the one pipeline
(``messaging.services.campaign_launch``: planner, stop-list, unsubscribes,
windows, moderation, balance); a success status of the step's channel stops
the chain; a final failure, or the decision time passing without a final
status, moves the recipient to step k+1 at once.

State lives in ``Hop`` rows (unique per run, step and phone: a step reaches a
recipient at most once).  Deadlines are persisted as ``Hop.decide_at`` and
swept by ``sweep`` with the dispatcher's claim pattern — rows claimed ``FOR
UPDATE SKIP LOCKED``, the whole batch (claim, the next step's campaign and
its ledger entry, the hops' new states) in one transaction, so a worker killed
in the middle leaves nothing half done: the batch is claimed again.  Never a
Celery countdown or ETA."""

import logging
from collections import defaultdict
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from messaging import registry
from messaging.models import PENDING_STATUSES, Campaign, Message, MessageStatus, Source
from messaging.planning import LaunchError, Recipient
from messaging.services import campaign_launch

from .models import Hop, Run

log = logging.getLogger(__name__)
S = MessageStatus
H = Hop.State

# At most this many recipients start a step in one campaign: the pipeline
# writes such a send inside the launch transaction (``INLINE_PREPARE_LIMIT``),
# so the campaign, its messages, its charge and the hops commit together.
BATCH = 2000
# Statuses after which a message will not be delivered (unless a receipt
# still comes late): the chain moves on at once.
FINAL_FAILURE = frozenset(
    {S.UNDELIVERED, S.CANCELLED, S.EXPIRED, S.FAILED, S.SPAM, S.UNSUBSCRIBED}
)
# A message still queued or being handed over when its decision time comes
# has not reached the carrier: look again this much later.
NOT_YET_SENT_RECHECK = timedelta(seconds=30)
RECIPIENT_KEYS = (
    "country",
    "operator",
    "region",
    "timezone",
    "contact_id",
    "client_ref",
    # A recipient's own text (JSON API ``schemeId``): every step sends it.
    "text",
)


_SQL_TYPES = {
    "state": "text",
    "reason": "text",
    "decide_at": "timestamptz",
    "decided_at": "timestamptz",
    "started_at": "timestamptz",
    "message_id": "bigint",
    "campaign_id": "bigint",
}


def _save(hops: list[Hop], fields: list[str]) -> None:
    """Write these fields of these hops in one set-based UPDATE (Django's
    ``bulk_update`` builds a CASE per row and field: 80 % of a sweep's time
    for 2,000 hops)."""
    if not hops:
        return
    if connection.vendor != "postgresql":
        Hop.objects.bulk_update(hops, fields, batch_size=500)
        return
    sets = ", ".join(f"{f} = v.{f}" for f in fields)
    arrays = ", ".join(f"%s::{_SQL_TYPES[f]}[]" for f in fields)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {Hop._meta.db_table} AS h SET {sets} "
            f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(fields)}) "
            "WHERE h.id = v.id",
            [[h.pk for h in hops], *[[getattr(h, f) for h in hops] for f in fields]],
        )


def _recipient(hop: Hop) -> Recipient:
    known = {k: v for k, v in (hop.recipient or {}).items() if k in RECIPIENT_KEYS}
    return Recipient(phone=hop.phone, **{k: v for k, v in known.items() if v})


def _claim(limit: int) -> list[Hop]:
    now = timezone.now()
    return list(
        Hop.objects.filter(
            state__in=[H.PENDING, H.WAITING],
            decide_at__lte=now,
            run__status__in=[Run.Status.RUNNING, Run.Status.SCHEDULED],
        )
        .order_by("decide_at", "id")
        .select_for_update(skip_locked=True, of=("self",))[:limit]
    )


def sweep(*, limit: int = BATCH, max_batches: int = 100000) -> int:
    """Process every due hop, batch by batch; returns hops processed."""
    total = 0
    for _ in range(max_batches):
        n = sweep_batch(limit=limit)
        if not n:
            break
        total += n
    return total


def sweep_batch(*, limit: int = BATCH) -> int:
    """Claim due hops and move them on, in one transaction."""
    with transaction.atomic():
        hops = _claim(limit)
        if not hops:
            return 0
        now = timezone.now()
        runs = {
            r.pk: r
            for r in Run.objects.select_related("account", "created_by").filter(
                pk__in={h.run_id for h in hops}
            )
        }
        _decide([h for h in hops if h.state == H.WAITING], runs, now)
        starting = defaultdict(list)
        for h in hops:
            if h.state == H.PENDING:
                starting[(h.run_id, h.step)].append(h)
        for (run_id, step), group in starting.items():
            _start(runs[run_id], step, group, now)
        Run.objects.filter(
            pk__in={run_id for run_id, _step in starting},
            status=Run.Status.SCHEDULED,
        ).update(status=Run.Status.RUNNING)
        for run_id in runs:
            _finish_if_done(run_id, now)
    return len(hops)


def _decide(hops: list[Hop], runs: dict, now) -> None:
    """Waiting hops whose decision time came (or whose message failed)."""
    if not hops:
        return
    messages = {
        mid: (status, send_at)
        for mid, status, send_at in Message.objects.filter(
            id__in=[h.message_id for h in hops]
        ).values_list("id", "status", "send_at")
    }
    onward = []
    for h in hops:
        run = runs[h.run_id]
        block = run.steps[h.step]
        kind = registry.get_channel(block["channel"])
        status, send_at = messages.get(h.message_id, (S.FAILED, now))
        decision = timedelta(seconds=int(block["decision"]))
        if status in kind.success:
            h.state, h.decided_at = H.SUCCESS, now
        elif status == S.DEFERRED:
            # Waiting for the sending window: the decision time starts then.
            h.decide_at = max(send_at, now) + decision
        elif status in PENDING_STATUSES:
            h.decide_at = now + min(decision, NOT_YET_SENT_RECHECK)
        else:
            last = h.step + 1 >= len(run.steps)
            h.state = H.FAILED if last else H.MOVED
            h.decided_at = now
            h.reason = (
                str(S(status).label)
                if status in FINAL_FAILURE
                else "Истекло время принятия решения"
            )[:200]
            if not last:
                onward.append(h)
    _save(hops, ["state", "decided_at", "decide_at", "reason"])
    _onward(onward, now, runs)


def _onward(hops: list[Hop], now, runs: dict) -> None:
    """The next step for recipients moved on, at once: its hops are written
    and started in this transaction.  (Should a hop of that step exist already
    — it cannot, the step before moves once — the rest are written due now and
    started by the next batch.)"""
    if not hops:
        return
    fresh = [
        Hop(
            run_id=h.run_id,
            account_id=h.account_id,
            step=h.step + 1,
            phone=h.phone,
            recipient=h.recipient,
            state=H.PENDING,
            decide_at=now,
        )
        for h in hops
    ]
    try:
        with transaction.atomic():
            created = Hop.objects.bulk_create(fresh)
    except IntegrityError:
        Hop.objects.bulk_create(fresh, ignore_conflicts=True)
        return
    starting = defaultdict(list)
    for h in created:
        starting[(h.run_id, h.step)].append(h)
    for (run_id, step), group in starting.items():
        for i in range(0, len(group), BATCH):
            _start(runs[run_id], step, group[i : i + BATCH], now)


def _start(run: Run, step: int, hops: list[Hop], now) -> None:
    """Send step ``step`` to these recipients: one campaign through the
    pipeline, inside this transaction."""
    block = run.steps[step]
    last = step + 1 >= len(run.steps)
    try:
        # A savepoint: a refused launch leaves the batch's transaction usable.
        with transaction.atomic():
            campaign = campaign_launch(
                account=run.account,
                channel=block["channel"],
                text=block.get("text") or "",
                sender=block.get("sender") or "",
                content=block.get("content") or {},
                options=block.get("options") or {},
                recipients=[_recipient(h) for h in hops],
                source=Source.SCENARIO,
                created_by=run.created_by,
                description=f"Сценарий «{run.name}» (запуск #{run.pk}), шаг {step + 1}",
            )
    except LaunchError as exc:
        if exc.code == "no_recipients":
            _excluded(run, hops, now, last, exc.message)
            return
        for h in hops:
            h.state, h.decided_at, h.reason = H.FAILED, now, exc.message[:200]
        _save(hops, ["state", "decided_at", "reason"])
        log.info("scenario run %s step %s refused: %s", run.pk, step, exc.message)
        return
    _mark(campaign.pk)
    sent = {
        phone: (mid, status, send_at)
        for mid, phone, status, send_at in Message.objects.filter(
            campaign_id=campaign.pk
        ).values_list("id", "phone", "status", "send_at")
    }
    decision = timedelta(seconds=int(block["decision"]))
    waiting, missing = [], []
    for h in hops:
        found = sent.get(h.phone)
        if found is None:
            missing.append(h)
            continue
        mid, status, send_at = found
        h.state, h.message_id, h.campaign_id = H.WAITING, mid, campaign.pk
        h.started_at = now
        h.decide_at = max(send_at, now) + decision
        waiting.append(h)
    _save(waiting, ["state", "message_id", "campaign_id", "started_at", "decide_at"])
    if missing:
        _excluded(run, missing, now, last, "Номер в стоп-листе или отписался")


def _excluded(run: Run, hops: list[Hop], now, last: bool, reason: str) -> None:
    """Recipients the step's planner left out (stop-list, unsubscribed from
    this channel): they go on to the next step at once."""
    for h in hops:
        h.state, h.decided_at, h.reason = H.EXCLUDED, now, reason[:200]
    _save(hops, ["state", "decided_at", "reason"])
    if not last:
        _onward(hops, now, {run.pk: run})


def _finish_if_done(run_id: int, now) -> None:
    if not Hop.objects.filter(run_id=run_id, state__in=[H.PENDING, H.WAITING]).exists():
        Run.objects.filter(
            pk=run_id, status__in=[Run.Status.RUNNING, Run.Status.SCHEDULED]
        ).update(status=Run.Status.DONE, finished_at=now)


# --- receipts -----------------------------------------------------------------

# A step's campaign is marked in the cache, so the receiver of every status
# change in the service answers "not a scenario's" without a query.  Longer
# than a message can wait for its report (lifetime ≤ decision time ≤ 48 h).
# Should a mark be lost, nothing breaks: the sweeper reads the message's
# status at the decision time; only the immediate fallback after a failure
# and the «доставлено после перехода» mark depend on it.
MARK_SECONDS = 4 * 24 * 3600


def _mark_key(campaign_id: int) -> str:
    return f"scenarios:campaign:{campaign_id}"


def _mark(campaign_id: int) -> None:
    try:
        cache.set(_mark_key(campaign_id), 1, timeout=MARK_SECONDS)
    except Exception:  # the cache is an optimisation; the sweeper decides anyway
        log.warning("scenario campaign %s not marked in the cache", campaign_id)


def _any_marked(campaign_ids: set[int]) -> bool:
    try:
        return bool(cache.get_many([_mark_key(c) for c in campaign_ids]))
    except Exception:  # no cache: ask the database
        return Campaign.objects.filter(
            pk__in=campaign_ids, source=Source.SCENARIO
        ).exists()


def statuses_apply(channel: str, changes: list[tuple]) -> int:
    """Status changes of messages (``messaging.signals.statuses_changed``):
    a success stops the recipient's chain (or, when the recipient had already
    moved on, marks the hop «доставлено после перехода»); a final failure makes
    the hop due now.  Returns hops made due now (the caller nudges the
    sweeper)."""
    try:
        kind = registry.get_channel(channel)
    except LookupError:
        return 0
    success = [c[0] for c in changes if c[3] in kind.success]
    failed = [c[0] for c in changes if c[3] in FINAL_FAILURE]
    if not success and not failed:
        return 0
    campaigns = {c[1] for c in changes if c[3] in kind.success or c[3] in FINAL_FAILURE}
    if not _any_marked(campaigns):
        return 0
    now = timezone.now()
    if success:
        stopped = Hop.objects.filter(message_id__in=success, state=H.WAITING)
        runs = set(stopped.values_list("run_id", flat=True))
        stopped.update(state=H.SUCCESS, decided_at=now)
        for run_id in runs:
            _finish_if_done(run_id, now)
        Hop.objects.filter(
            message_id__in=success, state__in=[H.MOVED, H.FAILED], late=False
        ).update(late=True)
    due = 0
    if failed:
        due = Hop.objects.filter(
            message_id__in=failed, state=H.WAITING, decide_at__gt=now
        ).update(decide_at=now)
    return due
