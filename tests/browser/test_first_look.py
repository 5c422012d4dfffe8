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


def test_a_deferred_campaign_is_cancelled_from_its_page(page, live_server, make_user):
    from datetime import timedelta

    from django.utils import timezone

    from cabinet.models import Account
    from messaging import services

    user = make_user("cancel@example.com")
    campaign = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Завтра открытие",
        phones=["+79161234567", "+79031234567"],
        send_at=timezone.now() + timedelta(days=1),
    )
    campaign.refresh_from_db()
    amount = f"{campaign.cost:.2f}".replace(".", ",")
    sign_in(page, "cancel@example.com")
    page.goto(f"/reports/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="Отменить рассылку").click()
    dialog = page.locator("#cancel-dialog")
    dialog.get_by_text(f"На баланс вернётся {amount}\u00a0₽.").wait_for()
    page.screenshot(path="var/screenshot-campaign-cancel-dialog.png")
    dialog.get_by_role("button", name="Отменить рассылку").click()
    page.get_by_text(
        f"Рассылка #{campaign.pk} отменена: 2 сообщения не будут отправлены. "
        f"На баланс возвращено {amount}\u00a0₽."
    ).wait_for()
    assert page.locator("#campaign-status").inner_text() == "Отменена"
    assert page.locator("#open-cancel").count() == 0
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1000")


def test_the_campaign_page_follows_a_running_campaign_until_it_is_done(
    page, live_server, make_user
):
    """It showed «Подготовка» with zeros and never refreshed."""
    user = make_user("live@example.com")
    campaign = Campaign.objects.create(
        account=user.account,
        channel="sms",
        text="Большая рассылка",
        status=Campaign.Status.PREPARING,
        options={"audience_estimate": 1000},
        prepared=300,
        recipients=300,
    )
    CampaignCounter.objects.create(
        campaign=campaign, status=MessageStatus.QUEUED, count=300
    )
    sign_in(page, "live@example.com")
    page.goto(f"/reports/campaigns/{campaign.pk}/")
    prepared = page.locator('[data-progress="prepared"] b')
    assert prepared.inner_text().split() == ["300", "из", "1000"]
    # The engine moves on while the page is open.
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.DONE,
        prepared=1000,
        recipients=1000,
        options={"audience_estimate": 1000, "prepared_done": True, "settled": True},
    )
    CampaignCounter.objects.filter(campaign=campaign).update(count=0)
    CampaignCounter.objects.create(
        campaign=campaign, status=MessageStatus.DELIVERED, count=1000
    )
    page.locator("#campaign-status", has_text="Завершена").wait_for(timeout=10000)
    assert page.locator('[data-progress="delivered"] b').inner_text() == "1000"
    # Finished: the page stops asking.
    assert page.locator("#campaign-live").get_attribute("hx-trigger") is None
    polls = []
    page.on("request", lambda r: polls.append(r.url))
    page.wait_for_timeout(3000)
    assert not [u for u in polls if f"/reports/campaigns/{campaign.pk}/" in u]
