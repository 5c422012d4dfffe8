"""``manage.py bench reports``: seed one account with N messages (10,000,000 by
default) across campaigns spread over the last 30 days, then time the report
pages server-side (Django test client: middleware, queries, templates).

Seeding is set-based: campaigns with ``bulk_create``, messages with one
``INSERT … SELECT … FROM generate_series`` per campaign, counters with one
``INSERT … SELECT … GROUP BY``.  PostgreSQL only.  ``--reuse`` keeps the data
of an earlier run of the same size (seeding 10M rows takes a few minutes).
"""

import os
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

EMAIL = "bench-reports-{n}@example.com"
# The index the reports need on messaging_message (asked of the messaging
# owner); created here when the schema lacks it, and reported in the output.
EXTRA_INDEXES = {
    "message_campaign_id_idx": "CREATE INDEX IF NOT EXISTS message_campaign_id_idx "
    "ON messaging_message (campaign_id, id)",
}
OPERATORS = ("МТС", "Билайн", "МегаФон", "Tele2")


def add_arguments(parser):
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--campaigns", type=int, default=2000)
    parser.add_argument(
        "--big-share",
        type=float,
        default=0.1,
        help="share of all messages in the one big campaign",
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse an account seeded earlier with the same --messages",
    )
    parser.add_argument(
        "--no-extra-index",
        action="store_true",
        help="measure without creating the index the reports ask for",
    )
    parser.add_argument("--skip-export", action="store_true")


def run(
    *, messages, campaigns, big_share, runs, reuse, no_extra_index, skip_export, **_
):
    if connection.vendor != "postgresql":
        raise SystemExit("bench reports needs PostgreSQL (set DATABASE_URL)")
    result = {"messages": messages, "campaigns": campaigns}
    indexes = [] if no_extra_index else _ensure_indexes()
    result["extra_indexes"] = indexes
    user = _bench_user(messages, reuse)
    if user is None:
        t0 = time.perf_counter()
        user = _seed(messages, campaigns, big_share)
        result["seed_seconds"] = round(time.perf_counter() - t0, 1)
    else:
        result["seed_seconds"] = "reused"
    from messaging.models import Campaign

    big = (
        Campaign.objects.filter(account_id=user.account_id)
        .order_by("-recipients", "id")
        .first()
    )
    result["big_campaign_messages"] = big.recipients
    result["campaigns"] = Campaign.objects.filter(account_id=user.account_id).count()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)
    pages = {
        "campaigns_tab_ms": "/reports/",
        "campaign_detail_ms": f"/reports/campaigns/{big.pk}/",
        "campaign_messages_first_page_ms": f"/reports/campaigns/{big.pk}/messages/",
        "campaign_messages_undelivered_ms": (
            f"/reports/campaigns/{big.pk}/messages/?status=undelivered"
        ),
        "charts_30_days_ms": "/reports/sms/charts/",
        "all_messages_tab_ms": "/reports/sms/messages/",
        "by_source_tab_ms": "/reports/sms/sources/",
        "deferred_tab_ms": "/reports/sms/deferred/",
        "campaigns_tag_filter_ms": "/reports/?tag=bench-odd",
        "campaigns_status_filter_ms": "/reports/?status=sent",
    }
    for name, url in pages.items():
        result[name] = _time(client, url, runs)
    result["api_campaign_list_ms"] = _time_api(user, runs)
    # The "детализация" dialog: one GROUP BY over the big campaign's messages
    # the first time, then cached (see reports.selectors.campaign_breakdown).
    from django.core.cache import cache

    big.refresh_from_db()
    cache.delete(f"reports:breakdown:{big.pk}:{big.status}:{big.cost}")
    t0 = time.perf_counter()
    assert client.get(f"/reports/campaigns/{big.pk}/breakdown/").status_code == 200
    result["breakdown_big_campaign_first_ms"] = round(
        (time.perf_counter() - t0) * 1000, 1
    )
    result["breakdown_big_campaign_cached_ms"] = _time(
        client, f"/reports/campaigns/{big.pk}/breakdown/", max(3, runs // 2)
    )
    if not skip_export:
        result.update(_export(client, big))
    return result


def _time(client, url, runs) -> dict:
    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    return {
        "median": round(statistics.median(samples), 1),
        "max": round(max(samples), 1),
    }


def _time_api(user, runs) -> dict:
    from rest_framework.test import APIRequestFactory, force_authenticate

    from cabinet.api.authentication import TokenUser
    from cabinet.services import token_create
    from reports.api.views import campaign_list_response

    created = token_create(account=user.account, description="bench")
    api_user = TokenUser(created.token)
    factory = APIRequestFactory()

    from rest_framework.decorators import api_view

    @api_view(["GET"])
    def view(request):
        return campaign_list_response(request)

    samples = []
    for i in range(runs + 1):
        request = factory.get("/api/v1/campaigns/", {"limit": 50})
        force_authenticate(request, user=api_user)
        t0 = time.perf_counter()
        response = view(request)
        response.render()
        if i:
            samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.data
    return {
        "median": round(statistics.median(samples), 1),
        "max": round(max(samples), 1),
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _export(client, big) -> dict:
    """Stream the big campaign's messages as .xlsx; the process's resident
    memory is sampled after every chunk to show it stays flat."""
    start_rss = _rss_mb()
    peak = start_rss
    t0 = time.perf_counter()
    response = client.get(f"/reports/campaigns/{big.pk}/messages/export/")
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        peak = max(peak, _rss_mb())
    seconds = time.perf_counter() - t0
    return {
        "export_big_campaign_rows": big.recipients,
        "export_big_campaign_seconds": round(seconds, 1),
        "export_rows_per_second": round(big.recipients / seconds),
        "export_big_campaign_mb": round(size / 1e6, 1),
        "export_rss_growth_mb": round(peak - start_rss, 1),
    }


def _ensure_indexes() -> list[str]:
    created = []
    with connection.cursor() as cur:
        for name, sql in EXTRA_INDEXES.items():
            cur.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(sql)
                created.append(name)
            else:
                created.append(f"{name} (present)")
    return created


def _bench_user(messages, reuse):
    from cabinet.models import User

    user = User.objects.filter(email=EMAIL.format(n=messages)).first()
    if user and reuse:
        return user
    if user:
        _drop(user)
    return None


def _drop(user):
    with connection.cursor() as cur:
        aid = user.account_id
        cur.execute(
            "DELETE FROM messaging_campaigncounter WHERE campaign_id IN "
            "(SELECT id FROM messaging_campaign WHERE account_id = %s)",
            [aid],
        )
        cur.execute("DELETE FROM messaging_message WHERE account_id = %s", [aid])
    from cabinet.models import Account

    Account.objects.filter(pk=user.account_id).delete()


def _seed(messages, campaigns, big_share):
    from cabinet.services import account_create
    from messaging.models import Campaign, Message, MessageStatus

    user = account_create(
        email=EMAIL.format(n=messages), password="bench-pass-123", balance=Decimal("0")
    )
    now = timezone.now()
    campaigns = max(1, min(campaigns, messages))
    big = int(messages * big_share) if campaigns > 1 else messages
    rest = messages - big
    sizes = [big] + [
        rest // (campaigns - 1) + (1 if i < rest % (campaigns - 1) else 0)
        for i in range(campaigns - 1)
    ]
    span = timedelta(days=29, hours=23)
    objs = []
    for i, n in enumerate(sizes):
        at = now - span + span * i / max(1, campaigns - 1)
        objs.append(
            Campaign(
                account_id=user.account_id,
                channel="sms",
                source=("cabinet", "api", "scheduler", "event")[i % 4],
                status=Campaign.Status.DONE,
                sender=("SMSinfo", "SHOP")[i % 2],
                text=f"Рассылка {i}: скидка {i % 50}% на всё до воскресенья",
                tags=["bench", "bench-odd" if i % 2 else "bench-even"],
                created_at=at,
                started_at=at,
                finished_at=at + timedelta(minutes=5),
                recipients=n,
                prepared=n,
            )
        )
    with transaction.atomic():
        created = Campaign.objects.bulk_create(objs, batch_size=1000)
    fields = {f.column: f for f in Message._meta.concrete_fields if f.column != "id"}
    # k varies per message and per campaign, so even two-message campaigns get
    # a realistic mix of statuses.
    k = "((c.id * 7919 + g.i) %% 100)"
    exprs = {
        "account_id": "c.account_id",
        "campaign_id": "c.id",
        "channel": "c.channel",
        "phone": "'+7916' || lpad(((c.id * 1000 + g.i) %% 10000000)::text, 7, '0')",
        "sender": "c.sender",
        "text": "c.text",
        "parts": "1",
        "price": "2.77",
        "status": (
            f"CASE WHEN {k} < 80 THEN 'delivered' WHEN {k} < 85 THEN 'clicked' "
            f"WHEN {k} < 93 THEN 'undelivered' WHEN {k} < 96 THEN 'sent' "
            f"WHEN {k} < 98 THEN 'failed' ELSE 'expired' END"
        ),
        "reason": (
            f"CASE WHEN {k} BETWEEN 85 AND 92 THEN 'Абонент не найден' ELSE '' END"
        ),
        "refunded": f"({k} >= 96)",
        "operator": "(%(operators)s::text[])[1 + g.i %% 4]",
        "country": "'RU'",
        "created_at": "c.created_at",
        "send_at": "c.created_at",
        "sent_at": "c.created_at + interval '1 minute'",
        "status_at": "c.created_at + interval '2 minutes'",
    }
    columns, values, params = [], [], {"operators": list(OPERATORS)}
    for column, f in fields.items():
        columns.append(column)
        if column in exprs:
            values.append(exprs[column])
        else:
            key = f"d_{column}"
            default = f.get_default()
            params[key] = (
                None if default is None else f.get_db_prep_value(default, connection)
            )
            values.append(f"%({key})s")
    # One statement per batch of campaigns (about a million messages each),
    # rows in campaign order as prepare writes them.
    sql = (
        f"INSERT INTO messaging_message ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM messaging_campaign c "
        "CROSS JOIN LATERAL generate_series(1, c.recipients) AS g(i) "
        "WHERE c.id = ANY(%(ids)s) ORDER BY c.id, g.i"
    )
    batches, batch, size = [], [], 0
    for c in created:
        batch.append(c.pk)
        size += c.recipients
        if size >= 1_000_000:
            batches.append(batch)
            batch, size = [], 0
    if batch:
        batches.append(batch)
    with connection.cursor() as cur:
        # No FK triggers while seeding (every row is valid by construction).
        cur.execute("SET session_replication_role = replica")
        try:
            for ids in batches:
                cur.execute(sql, {**params, "ids": ids})
        finally:
            cur.execute("SET session_replication_role = DEFAULT")
        statuses = [s for s in MessageStatus.values if s != "sending"]
        cur.execute(
            "INSERT INTO messaging_campaigncounter (campaign_id, status, count) "
            "SELECT c.id, s.status, coalesce(m.n, 0) FROM messaging_campaign c "
            "CROSS JOIN unnest(%s::text[]) AS s(status) "
            "LEFT JOIN (SELECT campaign_id, status, count(*) AS n "
            "FROM messaging_message WHERE account_id = %s GROUP BY 1, 2) m "
            "ON m.campaign_id = c.id AND m.status = s.status WHERE c.account_id = %s",
            [statuses, user.account_id, user.account_id],
        )
        cur.execute(
            "UPDATE messaging_campaign c SET cost = m.cost FROM (SELECT campaign_id, "
            "coalesce(sum(price) FILTER (WHERE NOT refunded), 0) AS cost "
            "FROM messaging_message WHERE account_id = %s GROUP BY 1) m "
            "WHERE m.campaign_id = c.id",
            [user.account_id],
        )
        for table in (
            "messaging_message",
            "messaging_campaign",
            "messaging_campaigncounter",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
    return user
