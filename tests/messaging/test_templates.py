import re

import pytest

from cabinet.models import Notification
from messaging.models import AdvertisingRequest, MessageTemplate

pytestmark = pytest.mark.django_db


def test_templates_page_lists_edits_and_deletes(client_for, user):
    template = MessageTemplate.objects.create(
        account=user.account, name="Акция", text="Скидка 10%"
    )
    client = client_for(user)
    page = client.get("/sms/templates/").content.decode()
    assert "Акция" in page and f"?template={template.pk}" in page
    resp = client.post(
        f"/sms/templates/{template.pk}/", {"name": "Акция 2", "text": "Скидка 20%"}
    )
    assert resp.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.text) == ("Акция 2", "Скидка 20%")
    assert (
        client.post(f"/sms/templates/{template.pk}/", {"name": ""}).status_code == 200
    )
    assert client.post(f"/sms/templates/{template.pk}/delete/").status_code == 302
    assert not MessageTemplate.objects.exists()


def test_foreign_templates_are_invisible(client_for, user, other_user):
    foreign = MessageTemplate.objects.create(
        account=other_user.account, name="Чужой", text="secret"
    )
    client = client_for(user)
    assert "Чужой" not in client.get("/sms/templates/").content.decode()
    assert "Чужой" not in client.get("/sms/send/").content.decode()
    assert client.get(f"/sms/templates/{foreign.pk}/").status_code == 404
    assert (
        client.post(f"/sms/templates/{foreign.pk}/", {"name": "x"}).status_code == 404
    )
    assert client.post(f"/sms/templates/{foreign.pk}/delete/").status_code == 404
    assert MessageTemplate.objects.filter(pk=foreign.pk, name="Чужой").exists()


def test_a_template_keeps_the_whole_form(client_for, user):
    client = client_for(user)
    client.post(
        "/sms/send/",
        {
            "text": "Текст",
            "phones": "+79161234567",
            "transliterate": "on",
            "smooth": "on",
            "smooth_portions": "5",
            "smooth_interval": "15",
            "tags": "a, b",
            "description": "Описание",
            "action": "save_template",
            "mode": "new",
            "template_name": "Полный",
        },
    )
    template = MessageTemplate.objects.get()
    assert template.form["options"] == {
        "smooth": {"portions": 5, "interval_minutes": 15},
        "transliterate": True,
    }
    page = client.get(f"/sms/send/?template={template.pk}").content.decode()
    assert re.search(r'name="transliterate"[^>]*checked', page)
    assert not re.search(r'name="chat_link"[^>]*checked', page)
    assert 'value="5"' in page and "Описание" in page and "+79161234567" in page


def test_save_template_needs_a_name_or_a_template(client_for, user):
    resp = client_for(user).post(
        "/sms/send/",
        {"text": "x", "action": "save_template", "mode": "new", "template_name": ""},
    )
    assert "Введите название шаблона." in resp.content.decode()
    assert not MessageTemplate.objects.exists()


def test_advertising_application_is_handled_by_staff(
    client_for, user, client, admin_user
):
    c = client_for(user)
    page = c.get("/sms/advertising/").content.decode()
    assert "от 2 500 смс" in page and "6,5" in page
    bad = c.post(
        "/sms/advertising/",
        {
            "cities": "Москва",
            "volume": "100",
            "text": "x",
            "targeting": "y",
            "contact": "z",
        },
    )
    assert bad.status_code == 200 and not AdvertisingRequest.objects.exists()
    resp = c.post(
        "/sms/advertising/",
        {
            "cities": "Москва",
            "volume": "5000",
            "text": "Открытие магазина",
            "targeting": "ЦАО",
            "contact": "+79161234567",
            "sender": "MyShop",
        },
    )
    assert resp.status_code == 302
    row = AdvertisingRequest.objects.get()
    assert row.account == user.account and row.status == "new"
    client.force_login(admin_user)
    resp = client.post(
        f"/admin/messaging/advertisingrequest/{row.pk}/change/",
        {"status": "in_work", "staff_comment": "Свяжемся завтра"},
    )
    assert resp.status_code == 302
    note = Notification.objects.get(account=user.account)
    assert "В работе" in note.title and note.body == "Свяжемся завтра"
