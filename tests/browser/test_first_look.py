"""What a new user saw on a fresh cabinet (issue 14, «What a new user saw»):
each test drives the page in Chromium the way the defect showed."""

import re
from decimal import Decimal

import pytest

from messaging.models import Campaign, CampaignCounter, MessageStatus
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _big_campaign(user, delivered=25000):
    campaign = Campaign.objects.create(
        account=user.account,
        channel="sms",
        text="Большая рассылка",
        status=Campaign.Status.DONE,
        recipients=delivered,
        prepared=delivered,
        cost=Decimal("68750.00"),
        options={"prepared_done": True, "settled": True},
    )
    CampaignCounter.objects.create(
        campaign=campaign, status=MessageStatus.DELIVERED, count=delivered
    )
    return campaign


def test_chart_axes_speak_the_cabinets_language_not_the_browsers(
    browser, live_server, make_user
):
    """An English-language browser drew «25,000» on the Russian cabinet's axes."""
    user = make_user("charts@example.com")
    _big_campaign(user)
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, "charts@example.com")
        page.goto("/reports/sms/charts/")
        labels = page.evaluate(
            """() => Chart.getChart(document.getElementById("chart-status"))
                 .scales.y.ticks.map(t => t.label)"""
        )
        top = labels[-1].replace("\u00a0", " ").replace("\u202f", " ")
        assert re.fullmatch(r"\d{1,3}( \d{3})+", top), labels
        assert not any("," in label for label in labels), labels
    finally:
        context.close()
