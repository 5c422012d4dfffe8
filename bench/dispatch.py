"""``manage.py bench dispatch --recipients 1000000 [--channel viber]``

One campaign to a group of N contacts through the real engine: prepare
(audience → message rows), dispatch (rows → accepted by the fake gateway) and
receipts (all applied), timed separately, against ``floor_seconds`` — a plain
PostgreSQL COPY of the same rows.  Needs PostgreSQL (``DATABASE_URL``).

``--channel viber`` sends text + image + button through the fake Viber carrier
(each button its own short link) and applies its callbacks: delivered, seen
(``--seen`` of them) and the button pressed through the short link
(``--clicked`` of the seen), as Viber's webhooks would bring them."""

import resource
import time
import uuid
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.db import connection

# Numbers the fake carriers treat specially (both channels): left out, so every
# recipient is an ordinary one and the outcomes come from the rates.
SPECIAL_TAILS = {
    "0000",
    "0001",
    "1111",
    "2222",
    "3333",
    "4444",
    "5555",
    "6666",
    "7777",
}


def add_arguments(parser):
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000, help="dispatch batch size")
    parser.add_argument("--text", default="Скидка 20% на всё до воскресенья! Ждём вас.")
    parser.add_argument("--channel", choices=["sms", "viber", "voice"], default="sms")
    parser.add_argument(
        "--seen", type=float, default=0.6, help="viber: share of delivered seen"
    )
    parser.add_argument(
        "--clicked",
        type=float,
        default=0.2,
        help="viber: share of the seen that press the button",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="voice: alternate SMS/voice runs"
    )
    parser.add_argument(
        "--gateway-ids",
        action="store_true",
        help="receipts carry the carrier's id only (as SMPP reports do), not ours",
    )


def _phones(n: int):
    i = 0
    made = 0
    while made < n:
        phone = f"+7916{i:07d}"
        i += 1
        if phone[-4:] in SPECIAL_TAILS:
            continue
        made += 1
        yield phone


def _seed(account, n: int):
    """A group of n contacts, written with COPY (not measured)."""
    from contacts.models import Group

    group = Group.objects.create(account=account, name=f"bench {n}")
    now = "2026-01-01 00:00:00+00"
    with connection.cursor() as cur:
        with cur.cursor.copy(
            "COPY contacts_contact (account_id, group_id, phone, last_name, first_name,"
            " middle_name, gender, email, link, consent, operator, country, region,"
            " timezone, extra, created_at) FROM STDIN"
        ) as copy:
            for k, phone in enumerate(_phones(n)):
                copy.write_row(
                    (
                        account.pk,
                        group.pk,
                        phone,
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        False,
                        ("МТС", "МегаФон", "Билайн", "Tele2")[k % 4],
                        "RU",
                        "Москва",
                        "Europe/Moscow",
                        "{}",
                        now,
                    )
                )
    _refresh_group_size(group)
    return group


def _refresh_group_size(group):
    try:
        from contacts.services import refresh_sizes
    except ImportError:
        return
    refresh_sizes([group.pk])


def _floor(campaign, n: int, text: str) -> float:
    """COPY of n message-shaped rows into a scratch copy of the message table
    (same columns and indexes): the floor for prepare."""
    from messaging.prepare import MESSAGE_COLUMNS

    with connection.cursor() as cur:
        cur.execute(
            # A real table with the message table's indexes: the same work
            # the database does for prepare's COPY.
            "DROP TABLE IF EXISTS bench_floor; "
            "CREATE TABLE bench_floor (LIKE messaging_message INCLUDING ALL)"
        )
        start = time.perf_counter()
        with cur.cursor.copy(
            f"COPY bench_floor ({', '.join(MESSAGE_COLUMNS)}) FROM STDIN"
        ) as copy:
            for phone in _phones(n):
                copy.write_row(
                    (
                        campaign.account_id,
                        campaign.pk,
                        campaign.channel,
                        phone,
                        "SMSinfo",
                        text,
                        1,
                        Decimal("2.75"),
                        "queued",
                        "",
                        "МТС",
                        "RU",
                        "Москва",
                        "Europe/Moscow",
                        None,
                        "2026-01-01 00:00:00+00",
                        "2026-01-01 00:00:00+00",
                        None,
                        "",
                        0,
                        False,
                        "",
                    )
                )
        elapsed = time.perf_counter() - start
        cur.execute("DROP TABLE bench_floor")
    return elapsed


def _viber_content(account) -> dict:
    """An uploaded image (checked and stored like any upload) and a button."""
    import io
    import tempfile

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from viber.images import image_upload

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-viber-")
    out = io.BytesIO()
    Image.new("RGB", (800, 800), (115, 96, 242)).save(out, "PNG")
    image = image_upload(
        account=account,
        upload=SimpleUploadedFile("sale.png", out.getvalue(), "image/png"),
    )
    return {
        "image": image.public_id,
        "button_text": "В магазин",
        "button_url": "https://shop.example.com/sale",
    }


def run(
    *,
    recipients: int,
    batch: int,
    text: str,
    channel: str = "sms",
    seen: float = 0.6,
    clicked: float = 0.2,
    rounds: int = 1,
    gateway_ids: bool = False,
    **_,
):
    if channel == "voice":  # calls, beside SMS in the same run (dispatch_voice.py)
        from .dispatch_voice import run_voice

        return run_voice(recipients=recipients, batch=batch, rounds=rounds)
    if connection.vendor != "postgresql":
        raise SystemExit("bench dispatch needs PostgreSQL: set DATABASE_URL")
    from celery import current_app

    from cabinet.models import Account
    from cabinet.services import account_create
    from messaging import dispatch, prepare, registry, services
    from messaging.models import CampaignLink, Message
    from messaging.statuses import receipts_apply
    from viber.services import callbacks_apply

    current_app.conf.task_always_eager = True
    options = {"mode": "manual", "rate_per_second": 0}
    if channel == "viber":
        options["rates"] = {"seen": seen, "clicked": clicked}
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        channel: {**settings.MESSAGING_GATEWAYS[channel], "OPTIONS": options},
    }
    registry.reset_gateways()
    gateway = registry.get_gateway(channel)
    # Prepare and dispatch are timed separately: run them here, not from on_commit.
    services._enqueue_prepare = lambda campaign_id: None
    prepare.enqueue_dispatch = lambda channel: None

    user = account_create(
        email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
        password=uuid.uuid4().hex,
        balance=Decimal(recipients) * Decimal("10"),
    )
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    group = _seed(account, recipients)
    content = _viber_content(account) if channel == "viber" else None

    t0 = time.perf_counter()
    campaign = services.campaign_launch(
        account=account,
        channel=channel,
        text=text,
        group_ids=[group.pk],
        content=content,
    )
    prepare.campaign_prepare(campaign_id=campaign.pk)
    prepare_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    dispatch.dispatch_channel(channel=channel, limit=batch)
    dispatch_seconds = time.perf_counter() - t1

    pending = gateway.pending_receipts
    gateway.pending_receipts = []
    if gateway_ids:
        # A carrier's report names its own id (the fake gateway's), not ours.
        pending = [
            replace(
                r,
                message_id=None,
                gateway_id=f"{gateway.prefix}-{channel}-{r.message_id}",
            )
            for r in pending
        ]
    t2 = time.perf_counter()
    c2 = time.process_time()  # this process's CPU (the database's is not in it)
    events = len(pending)
    for i in range(0, len(pending), 10000):
        chunk = pending[i : i + 10000]
        if channel == "viber":
            callbacks_apply(events=chunk)
        else:
            receipts_apply(channel=channel, receipts=chunk)
    receipts_seconds = time.perf_counter() - t2
    receipts_cpu_seconds = time.process_time() - c2
    del pending

    t3 = time.perf_counter()
    counters = services.campaign_counters(campaign_id=campaign.pk)
    counters_ms = (time.perf_counter() - t3) * 1000
    delivered = sum(counters.get(s, 0) for s in ("delivered", "viewed", "clicked"))
    floor_seconds = _floor(campaign, recipients, text)
    total = prepare_seconds + dispatch_seconds + receipts_seconds
    written = Message.objects.filter(campaign_id=campaign.pk).count()
    result = {
        "channel": channel,
        "receipts_by": "gateway id" if gateway_ids else "message id",
        "recipients": recipients,
        "messages": written,
        "delivered": delivered,
        "prepare_seconds": round(prepare_seconds, 2),
        "dispatch_seconds": round(dispatch_seconds, 2),
        "receipts_seconds": round(receipts_seconds, 2),
        "receipts_cpu_seconds": round(receipts_cpu_seconds, 2),
        "receipt_events": events,
        "msgs_per_s": round(written / total) if total else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "floor_seconds": round(floor_seconds, 2),
        "ratio": round(prepare_seconds / floor_seconds, 2) if floor_seconds else None,
        "counters_ms": round(counters_ms, 2),
    }
    if channel == "viber":
        result["seen"] = counters.get("viewed", 0) + counters.get("clicked", 0)
        result["clicked"] = counters.get("clicked", 0)
        result["button_clicks"] = (
            CampaignLink.objects.filter(campaign=campaign).values_list(
                "clicks", flat=True
            )
            or [0]
        )[0]
    return result
