"""``manage.py bench smpp --messages 100000 [--binds 1,2] [--window 100]``

The SMPP gateway against the test SMSC (tests/smsc, node-smpp's server) on
loopback, no throttling: ``--messages`` one-part texts submitted through
``SmppGateway.submit`` in batches of ``--batch`` (hand-overs recorded as in
production), once per number of binds; submits per second, and reports
received, applied and acknowledged per second (counted at the SMSC).  The
reports are for bench message ids that have no row, so what is timed is the
link and the hand-over records, not the engine's status updates (those are
``bench dispatch``).  Needs node and ``npm ci`` in tests/smsc."""

import resource
import time

from messaging.gateways.base import OutgoingMessage
from messaging.gateways.smpp import SmppGateway
from messaging.models import Handover


def add_arguments(parser):
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--binds", default="1,2")
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--batch", type=int, default=5000)


def _one(smsc, n, binds, window, batch, base):
    gateway = SmppGateway(channel="sms", url=smsc.url(window=window, binds=binds))
    gateway.start()
    before = smsc.stats()
    messages = [
        OutgoingMessage(
            id=base + i,
            phone=f"+7916{i:07d}",
            sender="Bench",
            text="Скидка 20% на всё до воскресенья!",
        )
        for i in range(n)
    ]
    t0 = time.monotonic()
    cpu0 = _cpu()
    errors = 0
    for i in range(0, n, batch):
        errors += sum(1 for r in gateway.submit(messages[i : i + batch]) if r.error)
    submit_seconds = time.monotonic() - t0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        acked = smsc.stats()["dlr_acked"] - before["dlr_acked"]
        if acked >= n - errors:
            break
        time.sleep(0.2)
    reports_seconds = time.monotonic() - t0
    cpu = _cpu() - cpu0
    gateway.stop()
    return {
        "binds": binds,
        "messages": n,
        "errors": errors,
        "submit_seconds": round(submit_seconds, 2),
        "submits_per_second": round(n / submit_seconds),
        "reports_acknowledged": acked,
        "reports_per_second": round(acked / reports_seconds),
        # This process only (submits, hand-over records, reports applied);
        # the SMSC and PostgreSQL are other processes.
        "cpu_ms_per_message": round(cpu * 1000 / n, 3),
        "cpu_bound_messages_per_second": round(n / cpu) if cpu else None,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(*, messages, binds, window, batch, **_):
    from tests import smsc as smsc_lib

    if not smsc_lib.available():
        raise SystemExit("needs node and tests/smsc/node_modules (npm ci)")
    smsc = smsc_lib.Smsc(log="")
    results = []
    try:
        for k, b in enumerate(int(x) for x in binds.split(",")):
            results.append(
                _one(smsc, messages, b, window, batch, 9_000_000_000 + k * 10**8)
            )
    finally:
        smsc.stop()
        Handover.objects.filter(message_id__gte=9_000_000_000).delete()
    return {"bench": "smpp", "window": window, "runs": results}
