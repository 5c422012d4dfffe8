"""The VK/OK send page (as SMS: groups, filtered group, numbers,
substitutions, templates, later, smooth, window, lifetime, tags, clear form,
the price before sending), the reports tab, REST v1 campaigns with channel
vk / ok, and the menu."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from contacts.models import Contact, Group
from messaging.models import Campaign, MessageTemplate

pytestmark = pytest.mark.django_db

VK_GROUP = "vk.com/luckyshop"


def form_data(**overrides):
    data = {
        "sender": VK_GROUP,
        "text": "Привет, [Имя]!",
        "phones": "+79161234567",
        "window_weekdays": ["1", "2", "3", "4", "5", "6", "7"],
        "ttl": "86400",
        "send_tz": "Europe/Moscow",
        "action": "send",
    }
    data.update(overrides)
    return data


def test_the_send_page_after_approval(client_for, user, approved):
    approved(user)
    html = client_for(user).get("/social/send/").content.decode()
    assert "заказать имя отправителя" not in html
    for name in ("send_later", "smooth", "window", "ttl_on", "tags", "clear_form"):
        assert f'name="{name}"' in html
    assert 'value="vk.com/luckyshop"' in html and 'value="ok.ru/group/55555555"' in html
    assert 'value="86400"' in html  # 24 hours
    assert "transliterate" not in html


def test_a_campaign_to_a_filtered_group_with_substitutions(
    client_for, user, approved, vk_tariffs
):
    approved(user)
    group = Group.objects.create(account=user.account, name="Клиенты")
    for phone, name, gender in (
        ("+79160001234", "Анна", "f"),
        ("+79160004444", "Борис", "m"),
    ):
        Contact.objects.create(
            account=user.account,
            group=group,
            phone=phone,
            first_name=name,
            gender=gender,
            country="RU",
        )
    client = client_for(user)
    estimate = client.post(
        "/social/send/estimate/",
        form_data(phones="", groups=[str(group.pk)], f_gender="f"),
    ).content.decode()
    assert "data-messages>1<" in estimate
    assert "Привет, Анна!" in estimate
    response = client.post(
        "/social/send/",
        form_data(
            phones="",
            groups=[str(group.pk)],
            f_gender="f",
            tags="весна, vk",
            ttl_on="on",
            ttl="3600",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get()
    assert campaign.channel == "vk" and campaign.sender == VK_GROUP
    assert campaign.tags == ["весна", "vk"]
    assert campaign.options["ttl"] == 3600
    message = campaign.messages.get()
    assert message.text == "Привет, Анна!" and message.status == "delivered"
    assert message.price == Decimal("1.20")


def test_send_later_smooth_and_window(client_for, user, approved):
    approved(user)
    response = client_for(user).post(
        "/social/send/",
        form_data(
            sender="ok.ru/group/55555555",
            phones="+79161230001\n+79161230002",
            send_later="on",
            send_date=(date.today() + timedelta(days=30)).isoformat(),
            send_time="10:00",
            smooth="on",
            smooth_portions="2",
            smooth_interval="30",
            window="on",
            window_from="09:00",
            window_to="21:00",
        ),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.channel == "ok" and campaign.status == Campaign.Status.SCHEDULED
    assert campaign.options["smooth"] == {"portions": 2, "interval_minutes": 30}
    assert campaign.options["window"]["from"] == "09:00"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"text": "я" * 2049}, "2048"),
        ({"text": ""}, "Введите текст"),
        ({"sender": "vk.com/notmine"}, "Выберите корректный вариант"),
        ({"phones": "abc"}, "Не похоже на номер"),
        ({"ttl_on": "on", "ttl": "172800"}, "Выберите корректный вариант"),
    ],
)
def test_bad_input_is_a_russian_error_and_nothing_happens(
    client_for, user, approved, overrides, message
):
    approved(user)
    response = client_for(user).post("/social/send/", form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Campaign.objects.exists()
    user.account.refresh_from_db()
    assert user.account.balance == Decimal("1000")


def test_a_template_and_repeat(client_for, user, approved):
    approved(user)
    client = client_for(user)
    response = client.post(
        "/social/send/",
        form_data(action="save_template", mode="new", template_name="Акция"),
    )
    template = MessageTemplate.objects.get()
    assert template.channel == "vk"
    html = client.get(response["Location"]).content.decode()
    assert "Привет, [Имя]!" in html
    sms = MessageTemplate.objects.create(account=user.account, name="СМС", text="x")
    assert client.get(f"/social/send/?template={sms.pk}").status_code == 404
    client.post("/social/send/", form_data())
    campaign = Campaign.objects.get()
    html = client.get(f"/social/send/?repeat={campaign.pk}").content.decode()
    assert "Привет, [Имя]!" in html
    sms_campaign = Campaign.objects.create(
        account=user.account, channel="sms", text="СМС"
    )
    assert client.get(f"/social/send/?repeat={sms_campaign.pk}").status_code == 404
    assert client.get("/social/send/?repeat=abc").status_code == 404
    huge = "99999999999999999999999"
    for query in (f"repeat={huge}", f"template={huge}", "template=-1", "group=абв"):
        assert client.get(f"/social/send/?{query}").status_code in (200, 404)
    assert client.get("/social/messengers/?m=<x>").status_code == 200


def test_the_report_tab(client_for, user, approved):
    approved(user)
    client = client_for(user)
    client.post("/social/send/", form_data(phones="+79160004444\n+79160000000"))
    assert client.get("/social/reports/")["Location"] == "/reports/vk/"
    html = client.get("/reports/vk/").content.decode()
    heads = re.findall(r'data-column="(\w+)"', html)
    assert heads[:5] == [
        "delivered",
        "viewed",
        "clicked",
        "unsubscribed",
        "undelivered",
    ]
    campaign = Campaign.objects.get()
    detail = client.get(f"/reports/campaigns/{campaign.pk}/").content.decode()
    assert "vk.com/luckyshop" in detail
    messages = client.get(
        f"/reports/campaigns/{campaign.pk}/messages/"
    ).content.decode()
    assert "Номер не зарегистрирован во ВКонтакте" in messages
    assert client.get("/reports/ok/").status_code == 200


def test_menu_items_lead_to_the_pages(client_for, user):
    html = client_for(user).get("/").content.decode()
    for url in ("/social/send/", "/social/reports/", "/social/senders/"):
        assert f'href="{url}"' in html


def test_rest_campaigns_with_channel_vk_and_ok(api_client_for, user, approved):
    approved(user)
    api = api_client_for(user)
    response = api.post(
        "/api/v1/campaigns/",
        {
            "channel": "vk",
            "sender": VK_GROUP,
            "text": "Привет!",
            "phones": ["+79160004444", "+79160000000"],
            "ttl": 86400,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["channel"] == "vk"
    detail = api.get(f"/api/v1/campaigns/{data['id']}/").json()
    assert detail["cost"] == "1.20"  # one delivered; the other refunded
    response = api.post(
        "/api/v1/campaigns/",
        {
            "channel": "ok",
            "sender": "ok.ru/group/55555555",
            "text": "x" * 2049,
            "phones": ["+79160004444"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "2048" in response.json()["error"]["message"]
    # No name, no send.
    response = api.post(
        "/api/v1/campaigns/",
        {"channel": "vk", "text": "x", "phones": ["+79160004444"]},
        format="json",
    )
    assert response.status_code == 400
    assert "заказать имя" in response.json()["error"]["message"]
