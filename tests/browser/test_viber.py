"""Viber in a browser: a text + image + button campaign to a group, with the
image uploaded on the spot and a Viber-like preview, ends in a report showing
Пр (seen) and Кл (the button pressed through our short link)."""

import importlib
import re

import pytest

from contacts.models import Contact, Group
from messaging.models import Campaign, CampaignLink
from tests.browser.helpers import sign_in
from tests.viber.conftest import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _viber_tariffs(transactional_db):
    """The default tariffs of the data migration (a transactional test starts
    from empty tables)."""
    from django.apps import apps

    importlib.import_module("viber.migrations.0002_default_tariffs").seed(apps, None)


def shot(page, name):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"var/screenshot-viber-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_text_image_button_campaign_to_a_group_shows_seen_and_clicked(
    page, make_user, tmp_path
):
    user = make_user("owner@example.com")
    group = Group.objects.create(account=user.account, name="Покупатели")
    for phone, name in (
        ("+79160003333", "Анна"),  # sees it and presses the button
        ("+79160004444", "Борис"),  # sees it
        ("+79161231234", "Вера"),  # delivered
    ):
        Contact.objects.create(
            account=user.account,
            group=group,
            phone=phone,
            first_name=name,
            country="RU",
        )
    image_file = tmp_path / "sale.png"
    image_file.write_bytes(picture(800, 800, color=(240, 90, 60)))

    sign_in(page)
    page.locator("nav.side summary", has_text="Рассылка Viber").click()
    page.locator("nav.side a[data-slug='viber-send']").click()
    page.wait_for_url(re.compile(r"/viber/send/$"))
    # The text tab shows only the text; the full format shows image and button.
    assert not page.locator("#viber-image-field").is_visible()
    page.locator(".viber-format:has(input[value=text_image_button])").click()
    assert page.locator("#viber-image-field").is_visible()

    page.locator("textarea[name=text]").fill("[Имя], скидка 20% на всё до воскресенья!")
    assert page.locator("#viber-counter [data-chars]").inner_text() == "40"
    page.locator("input[type=file][name=image]").set_input_files(str(image_file))
    page.locator("#viber-thumb img").wait_for(state="visible")
    assert page.locator("input[name=image_id]").input_value()
    page.get_by_label("Текст кнопки").fill("В магазин")
    page.get_by_label("Ссылка кнопки").fill("https://shop.example.com/sale")
    page.locator("select[name=groups]").select_option(label="Покупатели")
    page.locator("#estimate-btn").click()
    bubble = page.locator(".viber-bubble").first
    bubble.wait_for()
    assert "Анна, скидка 20%" in bubble.inner_text()
    assert bubble.locator(".viber-button").inner_text() == "В магазин"
    assert bubble.locator("img.viber-image").is_visible()
    assert "6,90" in page.locator("[data-total]").inner_text()
    shot(page, "send")

    page.get_by_role("button", name="Отправить сообщение").click()
    page.wait_for_url(re.compile(r"/reports/campaigns/\d+/$"))
    campaign = Campaign.objects.get(channel="viber")
    assert campaign.recipients == 3
    row = page.locator("#campaign-row")
    page.reload()
    cells = {
        col: row.locator(f"td:nth-child({i + 3})").inner_text()
        for i, col in enumerate(["Д", "Пр", "Кл"])
    }
    assert cells == {"Д": "3", "Пр": "2", "Кл": "1"}
    assert row.locator("th[data-column=viewed] abbr").get_attribute("title") == (
        "Просмотрено"
    )
    assert CampaignLink.objects.get(campaign=campaign).clicks == 1
    assert page.locator("#campaign-content img").is_visible()
    shot(page, "report")
    page.locator("#open-breakdown").click()
    page.get_by_text("Адрес отправителя: SMSinfo, Россия").wait_for()
    page.keyboard.press("Escape")

    # The Viber tab of the reports lists the campaign with its columns.
    page.goto("/reports/viber/")
    assert page.locator(f"tr[data-campaign='{campaign.pk}']").count() == 1
    shot(page, "reports")


def test_viber_pages_look_right(page, make_user):
    from decimal import Decimal

    from messaging import senders
    from viber import services

    user = make_user("owner@example.com", balance=Decimal("50000"))
    row = services.sender_name_request(
        account=user.account, name="LuckyShop", start="now"
    )
    senders.sender_decide(sender_name=row, approve=True)
    services.sender_name_request(
        account=user.account, name="NewBrand", start="next_month"
    )
    sign_in(page)
    page.goto("/viber/senders/")
    assert (
        page.locator("tr[data-sender='LuckyShop'] .status").inner_text() == "Работает"
    )
    shot(page, "senders")
    page.get_by_role("button", name="Добавить своё имя").click()
    page.locator("#sender-dialog").wait_for()
    shot(page, "sender-dialog")
    page.goto("/viber/tariffs/")
    assert page.locator("tr[data-country=RU]").is_visible()
    shot(page, "tariffs")
    page.goto("/viber/moderation-templates/")
    shot(page, "moderation-templates")
    page.goto("/viber/send/")
    page.locator(".viber-format:has(input[value=image])").click()
    assert not page.locator("textarea[name=text]").is_visible()
    shot(page, "send-image-tab")
