"""``manage.py bench scenario --recipients 100000``

A Viber → SMS scenario run to a group of N through the real engine, in one
process playing beat and the workers in a loop: the sweeper (claims due hops,
launches each step's campaign batch through the one pipeline), dispatch of
both channels, and the carriers' reports.  Viber does not deliver to
``--missed`` of the recipients in time: ``--undelivered`` of all report
«undelivered» at once (fallback at once), the rest stay silent until their
decision time passes (fallback on time) and their «delivered» arrives only
after the SMS went (a late receipt, kept and marked).

Prints end-to-end messages/s, the p50/p99 lateness of fallbacks moved by the
decision time (from the deadline to the SMS handed to the carrier), and the
recipients who got both channels — apart from late receipts (target 0).
Needs PostgreSQL (``DATABASE_URL``)."""

import hashlib
import resource
import threading
import time
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import connection

from .dispatch import _seed


def add_arguments(parser):
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument(
        "--missed", type=float, default=0.3, help="share Viber does not deliver in time"
    )
    parser.add_argument(
        "--undelivered",
        type=float,
        default=0.2,
        help="share reported undelivered at once (the rest of --missed is silent)",
    )
    parser.add_argument(
        "--decision", type=int, default=60, help="decision time, s (60 = the minimum)"
    )
    parser.add_argument("--batch", type=int, default=5000, help="dispatch batch size")


def _silent(message_id: int, share: float) -> bool:
    digest = hashlib.blake2b(f"silent:{message_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32 < share


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def run(*, recipients, missed, undelivered, decision, batch, **_):
    if connection.vendor != "postgresql":
        raise SystemExit("bench scenario needs PostgreSQL: set DATABASE_URL")
    from celery import current_app

    from cabinet.models import Account
    from cabinet.services import account_create
    from messaging import dispatch, prepare, registry
    from messaging.models import Message
    from messaging.statuses import receipts_apply
    from scenarios import engine, tasks
    from scenarios.models import Hop
    from scenarios.services import run_launch, scenario_save
    from viber.services import callbacks_apply

    current_app.conf.task_always_eager = True
    # This loop plays beat and the workers: no nudges from commits.
    prepare.enqueue_dispatch = lambda channel: None
    tasks.sweep.delay = lambda *a, **k: None
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "sms": {
            **settings.MESSAGING_GATEWAYS["sms"],
            "OPTIONS": {"mode": "manual", "rate_per_second": 0},
        },
        "viber": {
            **settings.MESSAGING_GATEWAYS["viber"],
            "OPTIONS": {
                "mode": "manual",
                "rate_per_second": 0,
                "rates": {"not_viber_user": undelivered},
            },
        },
    }
    registry.reset_gateways()
    viber = registry.get_gateway("viber")
    sms = registry.get_gateway("sms")
    # Of the delivered, the share that stays silent until after the fallback.
    silent_share = max(0.0, (missed - undelivered) / (1 - undelivered))

    user = account_create(
        email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
        password=uuid.uuid4().hex,
        balance=Decimal(recipients) * Decimal("10"),
    )
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    group = _seed(account, recipients)
    text = "Скидка 20% на всё до воскресенья! Ждём вас."
    scenario = scenario_save(
        account=account,
        name="bench Viber → SMS",
        steps=[
            {"channel": "viber", "text": text, "decision": decision},
            {"channel": "sms", "text": text, "decision": decision},
        ],
    )

    t0 = time.perf_counter()
    run = run_launch(account=account, scenario=scenario, group_ids=[group.pk])
    launch_seconds = time.perf_counter() - t0
    held: list[dict] = []  # silent Viber reports, released after the fallback
    stop = threading.Event()
    errors: list[BaseException] = []

    def viber_reports():
        events, viber.pending_receipts = viber.pending_receipts, []
        now_events = []
        for e in events:
            mid = e.get("message_id")
            if (
                mid is not None
                and e["event"] != "undelivered"
                and _silent(int(mid), silent_share)
            ):
                held.append(e)
            else:
                now_events.append(e)
        for i in range(0, len(now_events), 10000):
            callbacks_apply(events=now_events[i : i + 10000])
        return len(events)

    def sms_reports():
        receipts, sms.pending_receipts = sms.pending_receipts, []
        for i in range(0, len(receipts), 10000):
            receipts_apply(channel="sms", receipts=receipts[i : i + 10000])
        return len(receipts)

    def worker(step):
        # One thread per role, as separate Celery workers would run: the
        # sweeper, and each channel's dispatcher with its carrier's reports.
        try:
            while not stop.is_set():
                if not step():
                    time.sleep(0.05)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    roles = [
        # Two sweepers (a worker's concurrency): SKIP LOCKED splits the hops.
        lambda: engine.sweep_batch(),
        lambda: engine.sweep_batch(),
        lambda: dispatch.dispatch_batch(channel="viber", limit=batch) + viber_reports(),
        lambda: dispatch.dispatch_batch(channel="sms", limit=batch) + sms_reports(),
    ]
    threads = [threading.Thread(target=worker, args=(r,)) for r in roles]
    for t in threads:
        t.start()
    while (
        not errors
        and Hop.objects.filter(run=run, state__in=["pending", "waiting"]).exists()
    ):
        time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    total_seconds = time.perf_counter() - t0
    # The silent ones' reports come in at last: late receipts.
    for i in range(0, len(held), 10000):
        callbacks_apply(events=held[i : i + 10000])

    hops = Hop.objects.filter(run=run)
    on_time = hops.filter(
        step=0, state="moved", reason="Истекло время принятия решения"
    )
    moved_on_time = dict(on_time.values_list("phone", "decide_at"))
    decided = [
        (d - deadline).total_seconds()
        for deadline, d in on_time.values_list("decide_at", "decided_at")
    ]
    sms_sent = dict(
        Message.objects.filter(
            campaign_id__in=hops.filter(step=1).values("campaign_id"),
        ).values_list("phone", "sent_at")
    )
    lateness = [
        (sms_sent[p] - deadline).total_seconds()
        for p, deadline in moved_on_time.items()
        if sms_sent.get(p)
    ]
    viber_ok = set(hops.filter(step=0, state="success").values_list("phone", flat=True))
    both = len(viber_ok & set(sms_sent))
    late = hops.filter(step=0, late=True).count()
    messages = Message.objects.filter(account=account).count()
    run.refresh_from_db()
    return {
        "recipients": run.recipients,
        "decision_seconds": decision,
        "messages": messages,
        "viber_delivered": len(viber_ok),
        "sms_fallbacks": len(sms_sent),
        "moved_on_undelivered": hops.filter(step=0, state="moved")
        .exclude(reason="Истекло время принятия решения")
        .count(),
        "moved_on_decision_time": len(moved_on_time),
        "launch_seconds": round(launch_seconds, 2),
        "total_seconds": round(total_seconds, 2),
        "msgs_per_s": round(messages / total_seconds) if total_seconds else None,
        # Without the decision time everybody waits for by design.
        "msgs_per_s_excluding_decision_wait": round(
            messages / max(total_seconds - decision, 0.001)
        ),
        # From the deadline to the hop moved on (the sweeper's own delay)…
        "moved_lateness_p50_s": round(_percentile(decided, 0.5) or 0, 2),
        "moved_lateness_p99_s": round(_percentile(decided, 0.99) or 0, 2),
        # …and to the SMS handed to the carrier.
        "fallback_lateness_p50_s": round(_percentile(lateness, 0.5) or 0, 2),
        "fallback_lateness_p99_s": round(_percentile(lateness, 0.99) or 0, 2),
        "got_both_channels": both,
        "late_viber_receipts": late,
        "status": run.status,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
