"""VK/OK in a browser: the send page asks for a sender name first; the user
requests the VK and OK groups with the signed letter (and downloads the
blank); a staff member approves the request in the moderation console; the
user sends a VK campaign to a group and sees it in the VK report — only the
delivered message charged."""

import re
from decimal import Decimal

import pytest

from cabinet.models import User
from contacts.models import Contact, Group
from messaging.models import Campaign
from social.models import NameRequest
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _tariffs(transactional_db):
    import importlib

    from django.apps import apps

    importlib.import_module("social.migrations.0002_default_tariffs").seed(apps, None)


def shot(page, name):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(
            path=f"var/screenshot-social-{name}-{width}.png", full_page=True
        )
    page.set_viewport_size({"width": 1280, "height": 900})


def test_request_a_name_staff_approve_send_a_vk_campaign_see_the_report(
    page, browser, live_server, make_user, tmp_path, settings
):
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "vk": {
            **settings.MESSAGING_GATEWAYS["vk"],
            "OPTIONS": {"mode": "instant", "receipt_delay_seconds": 0},
        },
    }
    from messaging import registry

    registry.reset_gateways()
    user = make_user("owner@example.com")
    group = Group.objects.create(account=user.account, name="Подписчики")
    for phone, name in (("+79160004444", "Анна"), ("+79160000000", "Борис")):
        Contact.objects.create(
            account=user.account,
            group=group,
            phone=phone,
            first_name=name,
            country="RU",
        )
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(PDF)

    sign_in(page)
    page.locator("nav.side summary", has_text="Рассылки ВК и ОК").click()
    page.locator("nav.side a[data-slug='social-send']").click()
    page.wait_for_url(re.compile(r"/social/send/$"))
    box = page.locator("#need-name")
    assert "Перед созданием рассылки необходимо заказать имя отправителя" in (
        box.inner_text()
    )
    shot(page, "need-name")
    box.click()
    page.wait_for_url(re.compile(r"/social/senders/"))
    dialog = page.locator("#request-dialog")
    dialog.wait_for(state="visible")
    with page.expect_download() as download:
        page.locator("#blank-link").click()
    assert download.value.suggested_filename == "letter-vk-ok.pdf"
    # An address on another site is refused, nothing stored.
    page.get_by_label("Группа VK").fill("https://facebook.com/luckyshop")
    page.locator("input[name=letter]").set_input_files(str(letter))
    dialog.get_by_role("button", name="Отправить заявку").click()
    page.get_by_text("Группа VK должна быть на vk.com").wait_for()
    assert not NameRequest.objects.exists()
    page.get_by_label("Группа VK").fill("https://vk.com/luckyshop")
    page.get_by_label("Группа ОК").fill("https://ok.ru/group/55555555")
    page.locator("input[name=letter]").set_input_files(str(letter))
    shot(page, "request")
    page.locator("#request-dialog").get_by_role(
        "button", name="Отправить заявку"
    ).click()
    page.get_by_text("Заявка отправлена на согласование").wait_for()
    request = NameRequest.objects.get()
    assert (
        page.locator(f"tr[data-request='{request.pk}']").get_attribute("data-state")
        == "pending"
    )

    # A staff member approves it in the moderation console.
    User.objects.create_superuser(email="mod@example.com", password="x-123456")
    staff = browser.new_context(base_url=live_server.url, locale="ru-RU").new_page()
    staff.goto("/admin/login/")
    staff.locator("#id_username").fill("mod@example.com")
    staff.locator("#id_password").fill("x-123456")
    staff.locator("input[type=submit]").click()
    staff.goto("/admin/social/namerequest/?status__exact=pending")
    staff.get_by_role("link", name=str(request.pk), exact=True).click()
    staff.get_by_role("link", name="Одобрить").click()
    staff.locator("input[type=submit][value='Одобрить']").click()
    staff.wait_for_url(re.compile(r"/change/$"))
    staff.context.close()
    request.refresh_from_db()
    assert request.status == "approved"

    # The user is told, and sends a VK campaign to the group.
    page.goto("/notifications/")
    page.get_by_text(
        "Имя отправителя ВК/ОК «vk.com/luckyshop / ok.ru/group/55555555» одобрено"
    ).wait_for()
    page.goto("/social/send/")
    page.locator("select[name=sender]").select_option("vk.com/luckyshop")
    page.locator("textarea[name=text]").fill("[Имя], скидка 10% для подписчиков!")
    page.locator("select[name=groups]").select_option(label="Подписчики")
    page.locator("#estimate-btn").click()
    page.locator("[data-total]").wait_for()
    assert "2,40" in page.locator("[data-total]").inner_text()
    assert "Анна, скидка 10%" in page.locator("#estimate").inner_text()
    shot(page, "send")
    page.get_by_role("button", name="Отправить сообщение").click()
    page.wait_for_url(re.compile(r"/reports/campaigns/\d+/$"))
    campaign = Campaign.objects.get(channel="vk")
    page.reload()
    row = page.locator("#campaign-row")
    assert row.locator("td:nth-child(3)").inner_text() == "1"  # Д
    shot(page, "report")
    campaign.refresh_from_db()
    assert campaign.cost == Decimal("1.20")  # the undelivered one refunded
    page.goto("/reports/vk/")
    assert page.locator(f"tr[data-campaign='{campaign.pk}']").count() == 1
    shot(page, "reports")


def test_bind_telegram_from_the_notification_centre(page, make_user, settings):
    """«Уведомления → Получать в мессенджеры»: the code shown binds the chat
    when the bot's webhook brings it; the chat then chooses its kinds."""
    import json

    from django.test import Client

    from social.bots import FakeMessengerGateway
    from social.models import MessengerBinding

    settings.TELEGRAM_WEBHOOK_SECRET = "browser-secret"
    FakeMessengerGateway.outbox = []
    make_user("owner@example.com")
    sign_in(page)
    page.goto("/notifications/")
    page.locator("#to-messengers").click()
    page.wait_for_url(re.compile(r"/social/messengers/$"))
    code = page.locator("[data-code]").inner_text()
    assert len(code) == 8
    shot(page, "messengers")
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "from": {"id": 4242, "is_bot": False, "first_name": "Анна"},
            "chat": {"id": 4242, "type": "private"},
            "date": 1700000000,
            "text": f"/start {code}",
        },
    }
    response = Client().post(
        "/social/bots/telegram/",
        json.dumps(update),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="browser-secret",
    )
    assert response.status_code == 200
    binding = MessengerBinding.objects.get()
    page.reload()
    form = page.locator(f"form[data-binding='{binding.pk}']")
    assert "Telegram" in form.inner_text()
    form.get_by_label("Оплата").uncheck()
    form.get_by_role("button", name="Сохранить").click()
    page.get_by_text("Настройки уведомлений сохранены").wait_for()
    binding.refresh_from_db()
    assert "payment" not in binding.kinds and "balance" in binding.kinds
    shot(page, "messengers-bound")
    page.locator(f"form[data-binding='{binding.pk}']").get_by_role(
        "button", name="Отключить"
    ).click()
    page.get_by_text("Мессенджеры не подключены").wait_for()
    assert not MessengerBinding.objects.exists()
