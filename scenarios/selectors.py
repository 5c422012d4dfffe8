"""Reads: the account's scenarios and runs (always scoped to the account: a
foreign id is ``DoesNotExist`` → 404), a run's per-step report and a
recipient's timeline."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum

from messaging import registry
from messaging.models import Message, MessageStatus

from .models import Hop, Run, Scenario

H = Hop.State


def scenario_list(*, account_id: int):
    return Scenario.objects.filter(account_id=account_id)


def scenario_get(*, account_id: int, pk) -> Scenario:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Scenario.DoesNotExist from None
    return Scenario.objects.get(account_id=account_id, pk=pk)


def run_list(*, account_id: int, scenario_id: int | None = None):
    qs = Run.objects.filter(account_id=account_id)
    if scenario_id is not None:
        qs = qs.filter(scenario_id=scenario_id)
    return qs


def run_get(*, account_id: int, pk) -> Run:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Run.DoesNotExist from None
    return Run.objects.get(account_id=account_id, pk=pk)


def channel_label(code: str) -> str:
    try:
        return str(registry.get_channel(code).label)
    except LookupError:
        return code


@dataclass
class StepRow:
    index: int
    channel: str
    label: str
    decision: int
    sent: int = 0
    success: int = 0
    moved: int = 0
    excluded: int = 0
    failed: int = 0
    waiting: int = 0
    late: int = 0
    cost: Decimal = Decimal("0")


@dataclass
class RunReport:
    run: Run
    steps: list[StepRow]
    delivered: int
    not_delivered: int
    in_progress: int
    cost: Decimal
    sms_only: Decimal
    late: int
    delivered_by: list = field(default_factory=list)  # [(label, count)]

    @property
    def saved(self) -> Decimal:
        return self.sms_only - self.cost


def run_report(run: Run) -> RunReport:
    """Per step: sent, succeeded, moved on, left out, still waiting; which
    step delivered; the actual cost (messages not refunded) against SMS only."""
    rows = [
        StepRow(
            index=i + 1,
            channel=b["channel"],
            label=channel_label(b["channel"]),
            decision=int(b.get("decision") or 0),
        )
        for i, b in enumerate(run.steps)
    ]
    counts = (
        Hop.objects.filter(run=run)
        .values("step")
        .annotate(
            sent=Count("id", filter=Q(message_id__isnull=False)),
            success=Count("id", filter=Q(state=H.SUCCESS)),
            moved=Count("id", filter=Q(state=H.MOVED)),
            excluded=Count("id", filter=Q(state=H.EXCLUDED)),
            failed=Count("id", filter=Q(state=H.FAILED)),
            waiting=Count("id", filter=Q(state__in=[H.PENDING, H.WAITING])),
            late=Count("id", filter=Q(late=True)),
        )
    )
    for c in counts:
        if c["step"] < len(rows):
            row = rows[c["step"]]
            for k in (
                "sent",
                "success",
                "moved",
                "excluded",
                "failed",
                "waiting",
                "late",
            ):
                setattr(row, k, c[k])
    campaign_ids = set(
        Hop.objects.filter(run=run, campaign_id__isnull=False)
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    costs = (
        Message.objects.filter(campaign_id__in=campaign_ids, refunded=False)
        .values("channel")
        .annotate(total=Sum("price"))
    )
    # A channel's messages of this run (a channel may be two steps: split by
    # the hops' campaigns).
    by_campaign = dict(
        Message.objects.filter(campaign_id__in=campaign_ids, refunded=False)
        .values("campaign_id")
        .annotate(total=Sum("price"))
        .values_list("campaign_id", "total")
    )
    step_of = dict(
        Hop.objects.filter(run=run, campaign_id__isnull=False)
        .values_list("campaign_id", "step")
        .distinct()
    )
    for cid, total in by_campaign.items():
        step = step_of.get(cid)
        if step is not None and step < len(rows):
            rows[step].cost += total or Decimal("0")
    cost = sum((c["total"] or Decimal("0") for c in costs), Decimal("0"))
    delivered = sum(r.success for r in rows)
    not_delivered = sum(r.failed for r in rows) + (rows[-1].excluded if rows else 0)
    return RunReport(
        run=run,
        steps=rows,
        delivered=delivered,
        not_delivered=not_delivered,
        in_progress=sum(r.waiting for r in rows),
        cost=cost,
        sms_only=run.sms_only_cost,
        late=sum(r.late for r in rows),
        delivered_by=[(f"{r.index}. {r.label}", r.success) for r in rows],
    )


@dataclass
class TimelineHop:
    step: int
    label: str
    state: str
    state_label: str
    started_at: object
    decided_at: object
    status: str
    status_label: str
    price: Decimal
    late: bool
    reason: str


def run_recipients(run: Run, *, phone: str = "", limit: int = 50):
    """Recipients of a run with their hops, in order (a page of them)."""
    phones = list(
        Hop.objects.filter(
            run=run, step=0, **({"phone__contains": phone} if phone else {})
        )
        .order_by("phone")
        .values_list("phone", flat=True)[:limit]
    )
    return [(p, timeline(run, p)) for p in phones]


def timeline(run: Run, phone: str) -> list[TimelineHop]:
    """Each hop of one recipient: time, status and price."""
    hops = list(Hop.objects.filter(run=run, phone=phone).order_by("step"))
    messages = {
        m["id"]: m
        for m in Message.objects.filter(
            id__in=[h.message_id for h in hops if h.message_id]
        ).values("id", "status", "price", "refunded")
    }
    out = []
    for h in hops:
        m = messages.get(h.message_id) or {}
        status = m.get("status", "")
        out.append(
            TimelineHop(
                step=h.step + 1,
                label=channel_label(run.steps[h.step]["channel"])
                if h.step < len(run.steps)
                else "",
                state=h.state,
                state_label=str(H(h.state).label),
                started_at=h.started_at,
                decided_at=h.decided_at,
                status=status,
                status_label=str(MessageStatus(status).label) if status else "",
                price=Decimal("0")
                if m.get("refunded")
                else m.get("price", Decimal("0")),
                late=h.late,
                reason=h.reason,
            )
        )
    return out
