"""The Viber pages: send (formats, upload, price and bubble preview, templates,
repeat), sender names, moderation templates, tariffs, and the Viber tab of the
reports with «Адрес отправителя», the content, replies and unsubscribed."""

import re
from decimal import Decimal

import pytest

from billing.selectors import ledger_sum
from cabinet.models import Account
from contacts.models import Contact, Group
from messaging import services
from messaging.models import Campaign, MessageTemplate, ModerationTemplate, SenderName
from viber.models import Reply, SenderPackage, ViberImage

from .conftest import picture, upload

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "format": "text",
        "sender": "SMSinfo",
        "text": "Привет, [Имя]!",
        "phones": "+79161234567",
        "window_weekdays": ["1", "2", "3", "4", "5", "6", "7"],
        "ttl": "43200",
        "send_tz": "Europe/Moscow",
        "action": "send",
    }
    data.update(overrides)
    return data


def test_the_send_page_offers_the_manuals_formats_and_options(client_for, user):
    html = client_for(user).get("/viber/send/").content.decode()
    for label in (
        "Текст",
        "Изображение",
        "Текст + Кнопка",
        "Текст + Изображение + Кнопка",
        "Отправить позже",
        "Плавная отправка",
        "Ограничение по времени отправки",
        "Время жизни сообщения",
        "Получать ответ в Online-чат",
        "Очистить форму после отправки",
        "Тэги",
        "Описание",
        "Подставить",
        "Шаблоны",
    ):
        assert label in html, label
    assert "Символов:" in html and "из 1000" in html
    assert 'enctype="multipart/form-data"' in html
    assert "Транслитерация" not in html


def test_text_image_button_sent_from_the_form_without_javascript(client_for, user):
    client = client_for(user)
    data = form_data(
        format="text_image_button",
        button_text="В магазин",
        button_url="https://shop.example.com/sale",
        replies="on",
        tags="акция, viber",
        description="Август",
    )
    data["image"] = upload(picture(800, 800))
    response = client.post("/viber/send/", data)
    campaign = Campaign.objects.get(channel="viber")
    assert response.status_code == 302
    assert response["Location"] == f"/reports/campaigns/{campaign.pk}/"
    image = ViberImage.objects.get(account=user.account)
    assert campaign.content == {
        "image": image.public_id,
        "button_text": "В магазин",
        "button_url": "https://shop.example.com/sale",
    }
    assert campaign.options["replies"] is True
    assert campaign.tags == ["акция", "viber"] and campaign.description == "Август"
    assert campaign.cost == Decimal("2.30")


def test_only_the_chosen_format_is_sent(client_for, user, image_of):
    image = image_of(user)
    client_for(user).post(
        "/viber/send/",
        form_data(
            format="image",
            text="этот текст остался в поле",
            image_id=image.public_id,
            button_text="Кнопка",
            button_url="https://a.ru",
        ),
    )
    campaign = Campaign.objects.get(channel="viber")
    assert campaign.text == "" and campaign.content == {"image": image.public_id}


@pytest.mark.parametrize(
    "overrides,says",
    [
        ({"text": ""}, "Введите текст сообщения."),
        ({"text": "x" * 1001}, "Текст длиннее 1000 символов"),
        ({"format": "image"}, "Загрузите изображение."),
        ({"format": "text_button"}, "Введите текст кнопки."),
        (
            {
                "format": "text_button",
                "button_text": "Жми",
                "button_url": "javascript:alert(document.cookie)",
            },
            "Ссылка кнопки должна начинаться с http:// или https://.",
        ),
        ({"sender": "LuckyShop"}, "Выберите корректный вариант"),
    ],
)
def test_bad_input_on_the_page_is_a_russian_error_and_nothing_happens(
    client_for, user, overrides, says
):
    response = client_for(user).post("/viber/send/", form_data(**overrides))
    assert response.status_code == 200
    assert says in response.content.decode()
    assert not Campaign.objects.exists()
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") == ledger_sum(account_id=account.pk)


def test_a_bad_image_upload_is_explained_in_the_form(client_for, user):
    data = form_data(format="image")
    data["image"] = upload(b"GIF89a not really", "x.gif", "image/gif")
    html = client_for(user).post("/viber/send/", data).content.decode()
    assert "Файл не является изображением JPEG или PNG." in html
    assert not Campaign.objects.exists() and not ViberImage.objects.exists()


def test_an_account_that_cannot_pay_is_told_so(client_for, make_user):
    poor = make_user("poor@example.com", balance=Decimal("1"))
    html = (
        client_for(poor)
        .post("/viber/send/", form_data(phones="+79161234567\n+79161234568"))
        .content.decode()
    )
    assert "Недостаточно средств" in html
    assert not Campaign.objects.exists()


def test_the_price_and_a_viber_bubble_before_sending(client_for, user, image_of):
    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(
        account=user.account, group=group, phone="+79161110001", first_name="Анна"
    )
    image = image_of(user)
    html = (
        client_for(user)
        .post(
            "/viber/send/estimate/",
            form_data(
                format="text_image_button",
                phones="",
                groups=[str(group.pk)],
                image_id=image.public_id,
                button_text="Купить",
                button_url="https://shop.example.com",
            ),
        )
        .content.decode()
    )
    assert "2,30" in html or "2.30" in html
    assert 'data-variant="shared:promo"' in html and "рекламное, общее имя" in html
    assert "Привет, Анна!" in html  # substituted for the first recipient
    assert "viber-bubble" in html and "Купить" in html
    assert f"/viber/images/{image.public_id}/thumbnail/" in html
    assert not Campaign.objects.exists()


def test_the_estimate_says_when_an_own_name_cannot_send(
    client_for, rich_user, own_name
):
    own_name(rich_user, "WaitShop", approve=False)
    senders_row = SenderName.objects.get(name="WaitShop")
    SenderName.objects.filter(pk=senders_row.pk).update(status="approved")
    SenderPackage.objects.filter(sender_name=senders_row).delete()
    html = (
        client_for(rich_user)
        .post("/viber/send/estimate/", form_data(sender="WaitShop"))
        .content.decode()
    )
    assert "не оплачен" in html


def test_a_template_keeps_the_content_and_loads_into_the_form(client_for, user):
    client = client_for(user)
    response = client.post(
        "/viber/send/",
        form_data(
            action="save_template",
            mode="new",
            template_name="Акция",
            format="text_button",
            button_text="Смотреть",
            button_url="https://shop.example.com/x",
        ),
    )
    template = MessageTemplate.objects.get()
    assert template.channel == "viber"
    assert template.form["content"] == {
        "button_text": "Смотреть",
        "button_url": "https://shop.example.com/x",
    }
    assert response["Location"] == f"/viber/send/?template={template.pk}"
    html = client.get(response["Location"]).content.decode()
    assert 'value="https://shop.example.com/x"' in html
    assert re.search(r'value="text_button"[^>]*checked', html)
    # An SMS template is not a Viber one (and the other way round).
    sms = MessageTemplate.objects.create(account=user.account, name="СМС", text="x")
    assert client.get(f"/viber/send/?template={sms.pk}").status_code == 404
    assert "Акция" not in client.get("/sms/send/").content.decode()


def test_repeat_prefills_the_form_with_the_content(client_for, user, image_of):
    image = image_of(user)
    campaign = services.campaign_launch(
        account=user.account,
        channel="viber",
        text="Повтор",
        content={
            "image": image.public_id,
            "button_text": "Ещё",
            "button_url": "https://a.example.com",
        },
        phones=["+79161234567"],
        options={"replies": True},
    )
    client = client_for(user)
    detail = client.get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    assert f"/viber/send/?repeat={campaign.pk}" in detail
    html = client.get(f"/viber/send/?repeat={campaign.pk}").content.decode()
    assert "Повтор" in html and 'value="https://a.example.com"' in html
    assert f'value="{image.public_id}"' in html
    assert re.search(r'name="replies"[^>]*checked', html)
    sms = services.campaign_launch(
        account=user.account, channel="sms", text="СМС", phones=["+79161234567"]
    )
    assert client.get(f"/viber/send/?repeat={sms.pk}").status_code == 404


def test_another_accounts_objects_are_404(client_for, user, other_user, image_of):
    theirs = services.campaign_launch(
        account=other_user.account,
        channel="viber",
        text="Чужое",
        phones=["+79161234567"],
    )
    template = MessageTemplate.objects.create(
        account=other_user.account, channel="viber", name="Чужой", text="x"
    )
    mt = ModerationTemplate.objects.create(
        account=other_user.account, channel="viber", text="Код [любая фраза]"
    )
    name = SenderName.objects.create(
        account=other_user.account, channel="viber", name="Their"
    )
    client = client_for(user)
    assert client.get(f"/viber/send/?repeat={theirs.pk}").status_code == 404
    assert client.get(f"/viber/send/?template={template.pk}").status_code == 404
    assert client.get(f"/viber/moderation-templates/{mt.pk}/").status_code == 404
    assert (
        client.post(f"/viber/moderation-templates/{mt.pk}/delete/").status_code == 404
    )
    assert client.post(f"/viber/senders/{name.pk}/pay/").status_code == 404
    assert client.post(f"/viber/senders/{name.pk}/withdraw/").status_code == 404
    assert ModerationTemplate.objects.filter(pk=mt.pk).exists()
    assert SenderName.objects.filter(pk=name.pk).exists()
    # Their image cannot be sent from this account.
    image = image_of(other_user)
    html = client.post(
        "/viber/send/", form_data(format="image", image_id=image.public_id)
    ).content.decode()
    assert "Изображение не найдено" in html


def test_sender_names_page_requests_and_shows_packages(client_for, rich_user, own_name):
    client = client_for(rich_user)
    html = client.get("/viber/senders/").content.decode()
    for name in ("SMSinfo", "Akcii", "Servis-Info"):
        assert f'data-shared="{name}"' in html
    assert "35000,00&nbsp;₽ в месяц" in html
    assert "2–4 рабочих дня" in html
    response = client.post(
        "/viber/senders/", {"name": "MyBrand", "start": "next_month"}
    )
    assert response.status_code == 302
    row = SenderName.objects.get(name="MyBrand")
    assert row.channel == "viber" and row.status == "pending"
    assert SenderPackage.objects.get(sender_name=row).start == "next_month"
    bad = client.post("/viber/senders/", {"name": "Магазин", "start": "now"})
    assert "латинского алфавита" in bad.content.decode()
    own_name(rich_user, "Active")
    html = client.get("/viber/senders/").content.decode()
    assert 'data-sender="Active" data-state="active"' in html
    assert "Действует с" in html and "Продлить на следующий месяц" in html
    assert 'data-sender="MyBrand" data-state="waiting"' in html


def test_moderation_templates_for_viber(client_for, user):
    client = client_for(user)
    response = client.post(
        "/viber/moderation-templates/", {"text": "Ваш код: [любая фраза]"}
    )
    assert response.status_code == 302
    row = ModerationTemplate.objects.get()
    assert row.channel == "viber" and row.status == "pending"
    html = client.get("/viber/moderation-templates/").content.decode()
    assert "Ваш код: [любая фраза]" in html and "сервисн" in html
    client.post(
        f"/viber/moderation-templates/{row.pk}/", {"text": "Код: [любая фраза]"}
    )
    row.refresh_from_db()
    assert row.text == "Код: [любая фраза]"
    sms_row = ModerationTemplate.objects.create(account=user.account, text="SMS")
    assert client.get(f"/viber/moderation-templates/{sms_row.pk}/").status_code == 404
    assert "Ваш код" not in client.get("/sms/moderation-templates/").content.decode()


def test_tariffs_page_with_the_slider_and_the_package(client_for, user):
    client = client_for(user)
    html = client.get("/viber/tariffs/").content.decode()
    for text in (
        "Собственное имя",
        "Общее имя",
        "Рекламный",
        "Сервисный",
        "Предоплата за своё имя отправителя",
        "Сумма на балансе, руб",
        "Армения",
    ):
        assert text in html, text
    assert re.search(
        r'data-country="RU"><td>Россия</td><td class="num">2[.,]20</td>', html
    )
    partial = client.get(
        "/viber/tariffs/?balance=40000&countries=KZ", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in partial
    assert 'data-country="KZ"' in partial and 'data-country="RU"' not in partial
    assert "2,07" in partial or "1,98" in partial or "1.98" in partial
    assert client.get("/viber/tariffs/?balance=abc").status_code == 200
    # The SMS tariffs page does not show Viber's lines as an empty table.
    assert "VIBER" not in client.get("/billing/tariffs/").content.decode()


def test_the_viber_report_has_its_columns_breakdown_content_and_replies(
    client_for, user, image_of
):
    image = image_of(user)
    campaign = services.campaign_launch(
        account=user.account,
        channel="viber",
        text="Отчёт",
        sender="Akcii",
        content={
            "image": image.public_id,
            "button_text": "Открыть",
            "button_url": "https://shop.example.com",
        },
        phones=["+79160004444", "+79160003333", "+79160005555", "+79160006666"],
        options={"replies": True},
    )
    client = client_for(user)
    html = client.get("/reports/viber/").content.decode()
    heads = re.findall(r'data-column="(\w+)"', html)
    assert heads == [
        "delivered",
        "viewed",
        "clicked",
        "unsubscribed",
        "undelivered",
        "moderation",
        "cancelled",
        "sent",
        "queued",
        "deferred",
        "spam",
    ]
    assert "Ответы" in html and "Отписавшиеся" in html
    detail = client.get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    assert f"/viber/images/{image.public_id}/thumbnail/" in detail
    assert "Открыть" in detail
    breakdown = client.get(f"/reports/campaigns/{campaign.pk}/breakdown/")
    assert "Адрес отправителя: Akcii, Россия" in breakdown.content.decode()
    replies = client.get("/reports/viber/replies/").content.decode()
    reply = Reply.objects.get()
    assert reply.text in replies and "+79160005555" in replies
    unsub = client.get("/reports/viber/unsubscribed/").content.decode()
    assert "+79160006666" in unsub
    # SMS has no replies tab; a channel without replies answers 404 there.
    assert "Ответы" not in client.get("/reports/sms/").content.decode()
    assert client.get("/reports/sms/replies/").status_code == 404


def test_replies_are_the_accounts_own(client_for, user, other_user):
    services.campaign_launch(
        account=other_user.account,
        channel="viber",
        text="Чужая",
        phones=["+79160005555"],
        options={"replies": True},
    )
    assert Reply.objects.count() == 1
    html = client_for(user).get("/reports/viber/replies/").content.decode()
    assert "Ответов пока нет" in html


def test_menu_items_lead_to_the_viber_pages(client_for, user):
    html = client_for(user).get("/viber/send/").content.decode()
    for url in (
        "/viber/send/",
        "/viber/reports/",
        "/viber/senders/",
        "/viber/moderation-templates/",
        "/viber/tariffs/",
    ):
        assert f'href="{url}"' in html, url
    assert client_for(user).get("/viber/reports/")["Location"] == "/reports/viber/"


def test_the_viber_reports_highlight_the_viber_menu(client_for, user):
    html = client_for(user).get("/reports/viber/").content.decode()
    assert 'data-slug="viber-reports" class="active"' in html
    assert 'data-slug="sms-reports" class="active"' not in html


def test_the_generic_report_tabs_work_for_viber(client_for, user):
    campaign = services.campaign_launch(
        account=user.account,
        channel="viber",
        text="Все вкладки",
        phones=["+79160004444", "+79160000000"],
    )
    client = client_for(user)
    for path in (
        "/reports/viber/deferred/",
        "/reports/viber/messages/",
        "/reports/viber/charts/",
        "/reports/viber/sources/",
        f"/reports/campaigns/{campaign.pk}/messages/?status=viewed",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    messages = client.get(f"/reports/campaigns/{campaign.pk}/messages/").content
    assert "Номер не зарегистрирован в Viber" in messages.decode()
    for path in (
        "/reports/viber/export/",
        f"/reports/campaigns/{campaign.pk}/messages/export/",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert "spreadsheetml" in response["Content-Type"], path
    # «Выгрузить абонентов»: the delivered ones include the seen.
    response = client.post(
        f"/reports/campaigns/{campaign.pk}/recipients/",
        {
            "target": "group",
            "which": "delivered",
            "group_mode": "new",
            "new_group_name": "Видели в Viber",
        },
    )
    assert response.status_code == 302
    group = Group.objects.get(name="Видели в Viber")
    assert list(group.contacts.values_list("phone", flat=True)) == ["+79160004444"]


def test_the_price_shown_holds_when_the_tariff_rises_before_sending(client_for, user):
    from billing.models import Tariff

    client = client_for(user)
    html = client.post("/viber/send/estimate/", form_data()).content.decode()
    token = re.search(r'name="quote_token" value="([^"]+)"', html).group(1)
    Tariff.objects.filter(channel="viber", variant="shared:promo", country="RU").update(
        price=Decimal("9.99")
    )
    response = client.post("/viber/send/", form_data(quote_token=token))
    assert "Стоимость рассылки изменилась" in response.content.decode()
    assert not Campaign.objects.exists()
    # The token is for this form only: another content is not the price shown.
    html = client.post(
        "/viber/send/estimate/",
        form_data(format="text_button", button_text="Да", button_url="https://a.ru"),
    ).content.decode()
    assert "9,99" in html
