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


def test_the_menu_column_is_dark_down_to_the_bottom_of_a_long_page(
    page, live_server, make_user
):
    """The sidebar's background stopped after one screen on long pages."""
    user = make_user("long@example.com")
    for i in range(40):  # a long campaigns list
        Campaign.objects.create(
            account=user.account,
            channel="sms",
            text=f"Рассылка {i}",
            status=Campaign.Status.DONE,
        )
    page.set_viewport_size({"width": 1280, "height": 700})
    sign_in(page, "long@example.com")
    page.goto("/reports/")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height > 2000
    shot = page.screenshot(full_page=True)
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(shot)).convert("RGB")
    side = (0x1E, 0x2A, 0x3A)
    for y in (image.height // 2, image.height - 5):
        assert image.getpixel((120, y)) == side, y


def test_a_campaign_description_stays_readable_on_a_phone(page, live_server, make_user):
    """At 390 px the status columns squeezed the description to a letter a line."""
    from messaging import services

    user = make_user("phone@example.com")
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="[Уважаемый] [Имя]! Скидка 20% на всю осеннюю коллекцию до воскресенья.",
        phones=["+79161234567"],
        description="Осенняя распродажа для постоянных клиентов",
    )
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "phone@example.com")
    for url in (
        "/reports/",
        f"/reports/campaigns/{campaign.pk}/",
        "/reports/sms/messages/",
    ):
        page.goto(url)
        cell = page.locator("table.report td.desc, table.report td.text").first
        width = cell.bounding_box()["width"]
        assert width >= 200, (url, width)
    page.goto("/reports/")
    page.screenshot(path="var/screenshot-reports-390.png", full_page=True)


def test_the_recipients_page_opened_directly_exports_on_continue(
    page, live_server, make_user
):
    """Opened by its address, «Продолжить» did nothing (it posted by htmx into a
    dialog that page does not have)."""
    from contacts.models import Group
    from messaging import services

    user = make_user("direct@example.com")
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="Привет", phones=["+79161234567"]
    )
    sign_in(page, "direct@example.com")
    page.goto(f"/reports/campaigns/{campaign.pk}/recipients/")
    page.get_by_label("Выгрузить в телефонную книгу").check()
    page.get_by_label("Новая группа", exact=True).check()
    page.locator("#id_new_group_name").fill("Доставленные")
    page.get_by_role("button", name="Продолжить").click()
    page.wait_for_url(re.compile(rf"/reports/campaigns/{campaign.pk}/$"))
    assert page.get_by_text(
        "Абоненты выгружены в группу «Доставленные»: 1 номер."
    ).is_visible()
    assert Group.objects.filter(account=user.account, name="Доставленные").exists()
