"""REST v1 for event handlers: list, create, enable/disable, history, schema;
bad input is a 400 in the one error shape and saves nothing; another
account's handler is a 404."""

import pytest
from django.db import transaction

from contacts import services as contact_services
from contacts.models import Group
from events.models import Handler

pytestmark = pytest.mark.django_db

WELCOME = {
    "kind": "contact_added",
    "name": "Приветствие",
    "actions": [{"kind": "sms_contact", "config": {"text": "Привет, [Имя]!"}}],
}


def test_create_list_switch_history(user, api_client_for):
    api = api_client_for(user)
    group = Group.objects.create(account=user.account, name="Клиенты")
    body = {
        **WELCOME,
        "conditions": [{"field": "group", "op": "eq", "value": str(group.pk)}],
    }
    created = api.post("/api/v1/events/handlers/", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    hid = data["id"]
    assert data["is_active"] is True
    assert data["actions"][0]["kind"] == "sms_contact"
    assert data["actions"][0]["config"]["text"] == "Привет, [Имя]!"
    listed = api.get("/api/v1/events/handlers/").json()
    assert [h["id"] for h in listed["results"]] == [hid]

    off = api.post(f"/api/v1/events/handlers/{hid}/disable/")
    assert off.status_code == 200 and off.json()["is_active"] is False
    on = api.post(f"/api/v1/events/handlers/{hid}/enable/")
    assert on.json()["is_active"] is True

    # A contact added through the API → a run in the history.
    added = api.post(
        f"/api/v1/groups/{group.pk}/contacts/",
        {"phone": "+79161234567", "first_name": "Иван"},
        format="json",
    )
    assert added.status_code == 201, added.json()
    runs = api.get(f"/api/v1/events/handlers/{hid}/runs/").json()["results"]
    assert len(runs) == 1
    assert runs[0]["outcome"] == "ok"
    assert "через API" in runs[0]["trigger"]
    assert float(runs[0]["cost"]) > 0


def test_event_types(user, api_client_for):
    types = api_client_for(user).get("/api/v1/events/types/").json()["types"]
    kinds = {t["kind"] for t in types}
    assert {
        "contact_added",
        "message_delivered",
        "reply_received",
        "balance_low",
    } <= kinds


@pytest.mark.parametrize(
    "body, code, text",
    [
        ({**WELCOME, "actions": []}, "no_action", "Добавьте хотя бы одно действие"),
        (
            {**WELCOME, "actions": [{"kind": "sms_contact", "config": {"text": ""}}]},
            "invalid",
            "Введите текст сообщения",
        ),
        (
            {
                **WELCOME,
                "actions": [
                    {"kind": "webhook", "config": {"url": "http://10.0.0.5/hook"}}
                ],
            },
            "invalid",
            "",
        ),
        (
            {
                **WELCOME,
                "conditions": [{"field": "shoe_size", "op": "eq", "value": "42"}],
            },
            "unknown_field",
            "Поле «shoe_size» не существует",
        ),
        (
            {**WELCOME, "kind": "balance_low", "settings": {"threshold": "100"}},
            "invalid",
            "недоступно",
        ),
        ({**WELCOME, "kind": "nonsense"}, "validation_error", ""),
    ],
)
def test_bad_input_saves_nothing(user, api_client_for, body, code, text):
    response = api_client_for(user).post(
        "/api/v1/events/handlers/", body, format="json"
    )
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == code
    assert text in error["message"]
    assert not Handler.objects.exists()


def test_foreign_group_is_refused(user, other_user, api_client_for):
    theirs = Group.objects.create(account=other_user.account, name="Чужая")
    api = api_client_for(user)
    for body in (
        {
            **WELCOME,
            "conditions": [{"field": "group", "op": "eq", "value": str(theirs.pk)}],
        },
        {
            **WELCOME,
            "actions": [{"kind": "group_add", "config": {"group": str(theirs.pk)}}],
        },
    ):
        response = api.post("/api/v1/events/handlers/", body, format="json")
        assert response.status_code == 400
        assert "Группа не найдена" in response.json()["error"]["message"]
    assert not Handler.objects.exists()


def test_another_accounts_handler_is_404(user, other_user, api_client_for):
    from events import services

    theirs = services.handler_save(account=other_user.account, **WELCOME)
    api = api_client_for(user)
    assert api.get(f"/api/v1/events/handlers/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/v1/events/handlers/{theirs.pk}/runs/").status_code == 404
    for verb in ("disable", "enable"):
        assert (
            api.post(f"/api/v1/events/handlers/{theirs.pk}/{verb}/").status_code == 404
        )
    assert api.delete(f"/api/v1/events/handlers/{theirs.pk}/").status_code == 404
    assert api.get("/api/v1/events/handlers/").json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.is_active


def test_schema_documents_the_handlers(user, api_client_for):
    schema = api_client_for(user).get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/events/handlers/",
        "/api/v1/events/handlers/{id}/enable/",
        "/api/v1/events/handlers/{id}/disable/",
        "/api/v1/events/handlers/{id}/runs/",
    ):
        assert path in paths, sorted(p for p in paths if "event" in p)


def test_quick_add_in_a_transaction_is_recorded(user):
    """The event commits with its cause: a rolled-back add leaves no event."""
    from events import services
    from events.models import Event

    services.handler_save(account=user.account, **WELCOME)
    group = Group.objects.create(account=user.account, name="Клиенты")
    with pytest.raises(RuntimeError), transaction.atomic():
        contact_services.contacts_quick_add(
            account_id=user.account.pk, group=group, text="+79161234567"
        )
        raise RuntimeError
    assert not Event.objects.exists()
