import re

import pytest

from contacts.models import Contact, Group
from messaging import services
from messaging.models import Campaign, Message
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_filters_reports_opens_a_campaign_and_exports_recipients(
    page, live_server, make_user
):
    user = make_user("reports@example.com")
    shoes = services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Распродажа обуви -30%",
        phones=["+79161234567", "+79031234567", "+79161230000"],
        tags=["обувь"],
        description="Ноябрь",
    )
    services.campaign_launch(
        account=user.account,
        channel="sms",
        text="Новая коллекция",
        phones=["+79161234568"],
        tags=["одежда"],
    )
    sign_in(page, "reports@example.com")

    page.locator("nav.side summary", has_text="Рассылка СМС").click()
    page.locator("nav.side a[data-slug='sms-reports']").click()
    page.wait_for_url(re.compile(r"/reports/$"))
    assert page.locator("tr[data-campaign]").count() == 2
    assert (
        page.locator("th abbr", has_text="Н").first.get_attribute("title")
        == "Не доставлено"
    )
    assert page.get_by_text("Дата отправки: последние 30 дней").is_visible()
    page.screenshot(path="var/screenshot-reports-campaigns.png", full_page=True)

    # R2: filters in the dialog, applied as chips, kept in the URL.
    page.get_by_role("button", name="Добавить фильтры").click()
    dialog = page.locator("#filters-dialog")
    assert dialog.is_visible()
    page.screenshot(path="var/screenshot-reports-filters.png")
    dialog.get_by_label("Тэги — равно").fill("обувь")
    dialog.get_by_role("button", name="Применить").click()
    page.wait_for_url(re.compile(r"tag=%D0%BE%D0%B1%D1%83%D0%B2%D1%8C"))
    assert page.locator("tr[data-campaign]").count() == 1
    assert page.locator("[data-chip]", has_text="Тэг: обувь").is_visible()

    # Saved filter, then the chip's × removes the tag filter.
    page.get_by_role("button", name="Добавить фильтры").click()
    page.locator("#save-filter-name").fill("Обувь")
    page.get_by_role("button", name="Сохранить").click()
    page.get_by_text("★ Обувь").wait_for()
    page.locator("[data-chip]", has_text="Тэг: обувь").get_by_role("link").click()
    page.wait_for_url(re.compile(r"/reports/sms/$"))
    assert page.locator("tr[data-campaign]").count() == 2

    # R8: a tag click filters by that tag.
    page.locator("a.tag", has_text="одежда").click()
    page.wait_for_url(re.compile(r"tag="))
    assert page.locator("tr[data-campaign]").count() == 1
    page.get_by_text("★ Обувь").click()
    page.wait_for_url(re.compile(r"tag=%D0%BE%D0%B1%D1%83%D0%B2%D1%8C"))

    # R3: campaign detail with the cost breakdown dialog.
    page.locator(f"tr[data-campaign='{shoes.pk}'] a.when").click()
    page.wait_for_url(re.compile(rf"/reports/campaigns/{shoes.pk}/$"))
    assert page.locator("#fact-moderation").inner_text().startswith("Успешно")
    page.get_by_role("link", name="детализация").click()
    breakdown = page.locator("#breakdown")
    breakdown.wait_for()
    assert "Россия, МТС" in breakdown.inner_text()
    page.screenshot(path="var/screenshot-reports-breakdown.png", full_page=True)
    page.locator("#breakdown-dialog").get_by_role("button", name="Закрыть").click()

    # R4: Excel export of the messages.
    with page.expect_download() as download:
        page.get_by_role("link", name="Выгрузить в Excel").click()
    assert download.value.suggested_filename == f"campaign-{shoes.pk}-messages.xlsx"

    # R6: delivered recipients to a new group.
    page.get_by_role("link", name="Выгрузить абонентов").click()
    form = page.locator("#recipients-form")
    form.wait_for()
    form.get_by_label("Новая группа").check()
    form.get_by_label("Введите название новой группы").fill("Купили обувь")
    page.screenshot(path="var/screenshot-reports-recipients.png")
    form.get_by_role("button", name="Продолжить").click()
    page.get_by_text("Абоненты выгружены в группу «Купили обувь»").wait_for()
    group = Group.objects.get(account=user.account, name="Купили обувь")
    assert set(Contact.objects.filter(group=group).values_list("phone", flat=True)) == {
        "+79161234567",
        "+79031234567",
    }

    # R4: the campaign's messages, filtered by status.
    page.get_by_role("link", name="Все сообщения").click()
    page.wait_for_url(re.compile(r"/messages/$"))
    assert page.locator("tr[data-message]").count() == 3
    page.locator("a.chip", has_text="Н").click()
    page.wait_for_url(re.compile(r"status=undelivered"))
    assert page.locator("tr[data-message]").count() == 1
    assert "Не доставлено" in page.locator("tr[data-message]").inner_text()
    page.screenshot(path="var/screenshot-reports-messages.png", full_page=True)

    # R5: repeat links to the send form with the campaign id.
    page.goto(f"/reports/campaigns/{shoes.pk}/")
    assert (
        page.get_by_role("link", name="Повторить рассылку").get_attribute("href")
        == f"/sms/send/?repeat={shoes.pk}"
    )

    # R1: the other tabs.
    page.goto("/reports/sms/sources/")
    assert page.locator("tr[data-source='cabinet'] td.total").inner_text() == "4"
    page.screenshot(path="var/screenshot-reports-sources.png", full_page=True)
    page.get_by_role("link", name="Все сообщения").first.click()
    page.wait_for_url(re.compile(r"/reports/sms/messages/"))
    assert page.locator("tr[data-message]").count() == 4
    page.screenshot(path="var/screenshot-reports-all-messages.png", full_page=True)

    # R7: charts.
    page.goto("/reports/sms/charts/")
    page.locator("#chart-status").wait_for()
    page.wait_for_function(
        "() => window.Chart && Object.keys(Chart.instances).length === 3"
    )
    page.screenshot(path="var/screenshot-reports-charts.png", full_page=True)
    assert Message.objects.count() == 4 and Campaign.objects.count() == 2


def test_a_user_pages_through_campaigns_and_back(
    page, live_server, make_user, monkeypatch
):
    from reports import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    user = make_user("pages@example.com")
    made = [
        services.campaign_launch(
            account=user.account,
            channel="sms",
            text=f"Рассылка {i}",
            phones=[f"+7916123456{i}"],
        )
        for i in range(5)
    ]
    sign_in(page, "pages@example.com")
    page.goto("/reports/")

    def shown():
        return [
            int(x)
            for x in page.locator("tr[data-campaign]").evaluate_all(
                "rows => rows.map(r => r.dataset.campaign)"
            )
        ]

    assert shown() == [made[4].pk, made[3].pk]
    assert page.locator("#prev-page").count() == 0
    page.locator("#next-page").click()
    page.wait_for_url(re.compile(r"cursor="))
    page.locator("#next-page").click()
    page.wait_for_function("document.querySelectorAll('#next-page').length === 0")
    assert shown() == [made[0].pk]
    page.get_by_role("link", name="← Назад").click()
    page.wait_for_function(
        "document.querySelectorAll('tr[data-campaign]').length === 2"
    )
    assert shown() == [made[2].pk, made[1].pk]
    page.screenshot(path="var/screenshot-reports-back.png", full_page=True)
    page.get_by_role("link", name="← Назад").click()
    page.wait_for_function("document.querySelectorAll('#prev-page').length === 0")
    assert shown() == [made[4].pk, made[3].pk]
