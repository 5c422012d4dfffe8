"""The «События» pages: list, handler form with «Добавить действие», history,
switch, delete; bad input leaves nothing saved."""

import pytest
from django.db import transaction

from contacts import services as contact_services
from contacts.models import Group
from events.models import Handler, Run

pytestmark = pytest.mark.django_db


def test_list_shows_every_event_type(user, client_for):
    page = client_for(user).get("/events/").content.decode()
    for label in (
        "Добавлен новый контакт",
        "Дата в контакте",
        "Сообщение доставлено",
        "Сообщение не доставлено",
        "Входящий ответ",
        "Баланс ниже порога",
        "Поступил платёж",
        "Рассылка завершена",
        "Добавить обработчик",
    ):
        assert label in page


def test_menu_item_is_real(user, client_for):
    page = client_for(user).get("/").content.decode()
    assert 'href="/events/"' in page


def _create(client, group, text="Привет, [Имя]!"):
    # «Добавить действие» → «Рассылка смс контакту», then the send form.
    page = client.post(
        "/events/new/contact_added/",
        {"actions_count": "0", "add": "1", "add_action": "sms_contact"},
    )
    body = page.content.decode()
    assert 'name="a0-text"' in body and 'name="a0-kind"' in body
    return client.post(
        "/events/new/contact_added/",
        {
            "actions_count": "1",
            "a0-kind": "sms_contact",
            "a0-text": text,
            "a0-sender": "",
            "name": "Приветствие",
            "group": str(group.pk),
            "is_active": "on",
            "max_runs_per_hour": "500",
            "save": "1",
        },
    )


def test_create_toggle_edit_delete(user, client_for):
    client = client_for(user)
    group = Group.objects.create(account=user.account, name="Клиенты")
    response = _create(client, group)
    handler = Handler.objects.get(account=user.account)
    assert response.status_code == 302
    assert response["Location"] == f"/events/{handler.pk}/"
    assert handler.conditions == [
        {"field": "group", "op": "eq", "value": str(group.pk)}
    ]
    assert handler.actions.get().config["text"] == "Привет, [Имя]!"
    assert handler.max_runs_per_hour == 500
    page = client.get("/events/").content.decode()
    assert "Рассылка смс контакту: «Привет, [Имя]!»" in page
    assert "«Клиенты»" in page
    # The switch: active (blue) → «не активно» (grey).
    client.post(f"/events/{handler.pk}/toggle/")
    handler.refresh_from_db()
    assert not handler.is_active
    assert "не активно" in client.get("/events/").content.decode()
    # Edit shows the saved action's form filled in.
    edit = client.get(f"/events/{handler.pk}/edit/").content.decode()
    assert "Привет, [Имя]!" in edit
    client.post(f"/events/{handler.pk}/delete/")
    assert not Handler.objects.exists()


def test_history_lists_runs(user, client_for):
    client = client_for(user)
    group = Group.objects.create(account=user.account, name="Клиенты")
    _create(client, group)
    handler = Handler.objects.get()
    with transaction.atomic():
        contact_services.contact_create(
            account=user.account, group=group, data={"phone": "+79161234567"}
        )
    run = Run.objects.get()
    page = client.get(f"/events/{handler.pk}/").content.decode()
    assert "История запусков" in page
    assert run.trigger in page
    assert "Выполнено" in page
    assert run.cost > 0
    assert f"{run.cost}".replace(".", ",") + "&nbsp;₽" in page


def test_handler_without_action_is_refused(user, client_for):
    client = client_for(user)
    page = client.post(
        "/events/new/contact_added/",
        {"actions_count": "0", "name": "Пусто", "save": "1"},
        follow=True,
    ).content.decode()
    assert "Добавьте хотя бы одно действие." in page
    assert not Handler.objects.exists()


def test_invalid_action_form_is_refused(user, client_for):
    client = client_for(user)
    page = client.post(
        "/events/new/contact_added/",
        {"actions_count": "1", "a0-kind": "sms_contact", "a0-text": "", "save": "1"},
    ).content.decode()
    assert "Введите текст сообщения." in page
    assert not Handler.objects.exists()


def test_private_webhook_url_is_refused(user, client_for):
    client = client_for(user)
    page = client.post(
        "/events/new/payment_credited/",
        {
            "actions_count": "1",
            "a0-kind": "webhook",
            "a0-url": "http://127.0.0.1:8000/hook",
            "save": "1",
        },
    ).content.decode()
    assert "errorlist" in page
    assert not Handler.objects.exists()


def test_foreign_group_is_refused(user, other_user, client_for):
    theirs = Group.objects.create(account=other_user.account, name="Чужая")
    client = client_for(user)
    client.post(
        "/events/new/contact_added/",
        {
            "actions_count": "1",
            "a0-kind": "group_add",
            "a0-group": str(theirs.pk),
            "save": "1",
        },
    )
    assert not Handler.objects.exists()


def test_another_accounts_handler_is_404(user, other_user, client_for):
    from events import services

    theirs = services.handler_save(
        account=other_user.account,
        kind="payment_credited",
        actions=[{"kind": "webhook", "config": {"url": "https://example.com/h"}}],
    )
    client = client_for(user)
    for path in ("", "edit/"):
        assert client.get(f"/events/{theirs.pk}/{path}").status_code == 404
    for path in ("toggle/", "delete/"):
        assert client.post(f"/events/{theirs.pk}/{path}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active
