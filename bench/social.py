"""``manage.py bench social --recipients 100000``

The SMS figure first (``bench dispatch`` as it is), then the same audience
through VK: a campaign from an approved group through the real engine — the
planner with the daily limit per recipient (``ChannelKind.refused``: one
grouped query over the account's messages of today), prepare, dispatch, the
fake network's callbacks with ``--not-user`` of the numbers not on VK and
``--seen`` of the delivered seen, every message settled on its receipt (the
undelivered refunded).  Also the quote of the audience, VK against SMS, with a
day of earlier VK messages to the same numbers (``--earlier``) so the limit's
query has rows to read.  Needs PostgreSQL (``DATABASE_URL``)."""

import resource
import time
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

GROUP = "vk.com/benchshop"


def add_arguments(parser):
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000, help="dispatch batch size")
    parser.add_argument("--not-user", type=float, default=0.1)
    parser.add_argument("--seen", type=float, default=0.6)
    parser.add_argument("--earlier", type=int, default=2, help="VK campaigns before")


def _quote_ms(account, channel, sender, group_id, text) -> float:
    from messaging import services

    t = time.perf_counter()
    services.campaign_quote(
        account=account, channel=channel, text=text, sender=sender, group_ids=[group_id]
    )
    return (time.perf_counter() - t) * 1000


def run(
    *, recipients: int, batch: int, not_user: float, seen: float, earlier: int, **_
):
    if connection.vendor != "postgresql":
        raise SystemExit("bench social needs PostgreSQL: set DATABASE_URL")
    import tempfile

    from celery import current_app

    from cabinet.models import Account
    from cabinet.moderation import decide
    from cabinet.services import account_create
    from messaging import dispatch, prepare, registry, services
    from messaging.models import Message
    from social.services import callbacks_apply, name_request_create

    from . import dispatch as base

    text = "Скидка 20% на всё до воскресенья! Ждём вас."
    sms = base.run(recipients=recipients, batch=batch, text=text)

    current_app.conf.task_always_eager = True
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-social-")
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "vk": {
            **settings.MESSAGING_GATEWAYS["vk"],
            "OPTIONS": {
                "mode": "manual",
                "rates": {"not_user": not_user, "seen": seen},
            },
        },
    }
    registry.reset_gateways()
    gateway = registry.get_gateway("vk")
    services._enqueue_prepare = lambda campaign_id: None
    prepare.enqueue_dispatch = lambda channel: None

    user = account_create(
        email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
        password=uuid.uuid4().hex,
        balance=Decimal(recipients) * Decimal("10") * (earlier + 2),
    )
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    request = name_request_create(
        account=account,
        vk=GROUP,
        letter=SimpleUploadedFile("l.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    )
    decide(item=request, approve=True)
    group = base._seed(account, recipients)

    def one_campaign():
        t0 = time.perf_counter()
        campaign = services.campaign_launch(
            account=account, channel="vk", text=text, sender=GROUP, group_ids=[group.pk]
        )
        prepare.campaign_prepare(campaign_id=campaign.pk)
        prepare_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        dispatch.dispatch_channel(channel="vk", limit=batch)
        dispatch_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        pending, gateway.pending_receipts = gateway.pending_receipts, []
        for i in range(0, len(pending), 10000):
            callbacks_apply(channel="vk", events=pending[i : i + 10000])
        receipts_s = time.perf_counter() - t2
        return campaign, prepare_s, dispatch_s, receipts_s, len(pending)

    sms_quote = _quote_ms(account, "sms", "", group.pk, text)
    vk_quote_empty_day = _quote_ms(account, "vk", GROUP, group.pk, text)
    for _ in range(earlier):
        one_campaign()
    vk_quote = _quote_ms(account, "vk", GROUP, group.pk, text)
    campaign, prepare_s, dispatch_s, receipts_s, events = one_campaign()
    counters = services.campaign_counters(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    written = Message.objects.filter(campaign_id=campaign.pk).count()
    total = prepare_s + dispatch_s + receipts_s
    rate = round(written / total) if total else None
    return {
        "channel": "vk",
        "recipients": recipients,
        "sms": sms,
        "vk": {
            "messages": written,
            "earlier_today": earlier * recipients,
            "delivered": sum(
                counters.get(s, 0) for s in ("delivered", "viewed", "clicked")
            ),
            "undelivered": counters.get("undelivered", 0),
            "prepare_seconds": round(prepare_s, 2),
            "dispatch_seconds": round(dispatch_s, 2),
            "callbacks_and_settlement_seconds": round(receipts_s, 2),
            "callback_events": events,
            "msgs_per_s": rate,
            "held": campaign.options.get("held"),
            "cost_after_settlement": str(campaign.cost),
        },
        "quote_ms": {
            "sms": round(sms_quote, 1),
            "vk_empty_day": round(vk_quote_empty_day, 1),
            "vk_after_earlier": round(vk_quote, 1),
        },
        "vk_vs_sms": round(rate / sms["msgs_per_s"], 2)
        if rate and sms.get("msgs_per_s")
        else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
