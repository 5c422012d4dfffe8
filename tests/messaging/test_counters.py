"""Campaign counters: a missing row counts as zero and is created by the first
shift (one-message API sends write only their non-zero row)."""

import threading
import time

import pytest

from messaging import prepare, services
from messaging.models import Campaign, CampaignCounter
from messaging.statuses import counters_shift

pytestmark = pytest.mark.django_db


def test_a_shift_creates_missing_rows_and_adds_to_existing(user):
    campaign = Campaign.objects.create(account=user.account, text="x")
    CampaignCounter.objects.create(campaign=campaign, status="queued", count=1)
    counters_shift(
        {
            (campaign.pk, "queued"): -1,
            (campaign.pk, "sent"): 1,
            (campaign.pk, "sending"): 0,
        }
    )
    counters = services.campaign_counters(campaign_id=campaign.pk)
    assert counters["queued"] == 0 and counters["sent"] == 1
    assert counters["delivered"] == 0  # no row: zero
    assert "sending" not in counters
    # "sending" is counted as "queued": both deltas land on one row.
    counters_shift({(campaign.pk, "sending"): 2, (campaign.pk, "queued"): 1})
    assert services.campaign_counters(campaign_id=campaign.pk)["queued"] == 3


def test_the_dispatch_nudge_enqueues_once_then_once_after_a_burst(monkeypatch):
    enqueued = []
    monkeypatch.setattr(prepare, "enqueue_dispatch", enqueued.append)
    nudge = prepare.DispatchNudge(0.2)
    for _ in range(50):
        nudge("sms")
    assert enqueued == ["sms"]  # at once
    deadline = time.monotonic() + 3
    while len(enqueued) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert enqueued == ["sms", "sms"]  # and one trailing, after the burst
    time.sleep(0.3)
    assert enqueued == ["sms", "sms"]
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
