"""``manage.py bench billing --posts 20000 --threads 4 --export 200000``

Ledger throughput: ``ledger_post`` from N threads against ONE account (the
worst case: every post waits for the same row lock) and against one account
per thread; then the money-movement .xlsx export of E entries (streamed,
write-only openpyxl) and the services-rendered grouping over them.  Checks
balance == sum(ledger) at the end.  Needs PostgreSQL for threads."""

import threading
import time
import uuid
from decimal import Decimal

from django.db import connection, connections


def add_arguments(parser):
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--export", type=int, default=200000)


def _account(balance):
    from cabinet.services import account_create

    return account_create(
        email=f"bench-{uuid.uuid4().hex[:10]}@example.com",
        password="x" * 12,
        balance=balance,
    ).account


def _hammer(account_ids: list[int], posts: int, threads: int) -> float:
    from billing.services import ledger_post

    per = posts // threads
    barrier = threading.Barrier(threads)

    def work(i):
        aid = account_ids[i % len(account_ids)]
        barrier.wait()
        for j in range(per):
            ledger_post(
                account_id=aid,
                amount=Decimal("-0.01") if j % 2 else Decimal("0.02"),
                kind="charge" if j % 2 else "topup",
                reason="bench",
                service="sms",
            )
        connections.close_all()

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


def run(*, posts, threads, export, **_):
    from billing.documents import ledger_xlsx_stream
    from billing.models import LedgerEntry, LedgerKind
    from billing.selectors import ledger_sum, services_rendered
    from cabinet.models import Account

    if connection.vendor != "postgresql":
        threads = 1
    one = _account(Decimal("1000"))
    t_one = _hammer([one.pk], posts, threads)
    many = [_account(Decimal("1000")).pk for _ in range(threads)]
    t_many = _hammer(many, posts, threads)
    ok = all(
        Account.objects.get(pk=a).balance == ledger_sum(account_id=a)
        for a in [one.pk, *many]
    )

    # Export: E entries for one account, written in bulk (not measured).
    acc = _account(Decimal("0"))
    now = time.time()
    from django.utils import timezone

    base = timezone.now()
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                account=acc,
                amount=Decimal("-1.25"),
                kind=LedgerKind.CHARGE,
                reason=f"Рассылка СМС #{i}",
                service="sms",
                balance_after=Decimal("0"),
                created_at=base - timezone.timedelta(minutes=i),
            )
            for i in range(export)
        ],
        batch_size=5000,
    )
    t0 = time.perf_counter()
    size = sum(
        len(chunk)
        for chunk in ledger_xlsx_stream(
            LedgerEntry.objects.filter(account=acc)
            .order_by("-created_at")
            .iterator(chunk_size=2000)
        )
    )
    t_export = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = services_rendered(
        account_id=acc.pk,
        date_from=(base - timezone.timedelta(days=400)).date(),
        date_to=base.date(),
    )
    t_services = time.perf_counter() - t0
    _ = now
    return {
        "vendor": connection.vendor,
        "threads": threads,
        "posts": posts,
        "one_account_posts_per_s": round(posts / t_one),
        "separate_accounts_posts_per_s": round(posts / t_many),
        "balance_equals_ledger": ok,
        "export_rows": export,
        "export_rows_per_s": round(export / t_export),
        "export_bytes": size,
        "services_rendered_s": round(t_services, 3),
        "services_rows": len(report.rows),
    }
