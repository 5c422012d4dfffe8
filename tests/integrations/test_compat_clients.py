"""The JSON API v1.0 as public third-party clients call it (SPEC A3, issue 15).

Each request below has the shape a real client sends (a PHP snippet with ids
copied from the provider's example, a Laravel package writing its one row id
into every message of a batch, a C# client naming the sender ``sender``, a
Python client without ids that tracks status by the answered id); no client
code is copied here."""

import json

import pytest

from cabinet.models import Account
from contacts.models import StopNumber
from messaging.models import Message, SenderName

pytestmark = pytest.mark.django_db


def balance(user):
    return Account.objects.get(pk=user.account_id).balance


def test_a_send_without_ids_answers_ours_and_status_accepts_it(user, compat_for):
    """A Python client posts ``{"recipient", "text"}`` only, stores the ``id`` of
    each answered message and later asks ``sms/status`` with it."""
    api = compat_for(user)
    resp = api.send(
        {
            "messages": [
                {"recipient": "79161234567", "text": "Код 1111"},
                {"recipient": "79031234567", "text": "Код 2222"},
            ]
        }
    ).json()
    answered = resp["result"]["messages"]
    ids = [m["id"] for m in answered]
    assert all(isinstance(i, str) and i for i in ids) and ids[0] != ids[1]
    status = api.status(ids).json()["result"]
    assert [s["status"] for s in status] == ["delivered", "delivered"]
    assert [s["smscId"] for s in status] == [m["smscId"] for m in answered]
    # Our ids are not replay keys: the same body again is two new messages.
    again = api.send(
        {"messages": [{"recipient": "79161234567", "text": "Код 1111"}]}
    ).json()
    assert "repeated" not in again["result"]["messages"][0]
    assert Message.objects.filter(phone="+79161234567").count() == 2


def test_one_id_written_into_every_message_of_a_batch_sends_them_all(user, compat_for):
    """The Laravel package saves one row and writes its id into every message."""
    api = compat_for(user)
    batch = {
        "messages": [
            {"recipient": phone, "text": "Акция до пятницы", "id": "17"}
            for phone in ("79161234567", "79031234567", "79261234567")
        ],
        "validate": False,
        "tags": [],
        "startDateTime": "2020-01-01 10:00:00",  # now(), already past on arrival
    }
    resp = api.send(batch).json()
    assert resp["success"] is True
    assert resp["result"]["accepted"] == 3
    assert all("repeated" not in m for m in resp["result"]["messages"])
    assert Message.objects.filter(client_ref="17").count() == 3
    # sms/status resolves an id carried by several messages to the latest.
    latest = Message.objects.filter(client_ref="17").order_by("-id").first()
    status = api.status(["17"]).json()["result"][0]
    assert status["smscId"] == latest.pk and status["recipient"] == "+79261234567"
    # The same batch again is a true replay of each message: nothing is sent.
    spent = balance(user)
    again = api.send(batch).json()
    assert all(m["repeated"] for m in again["result"]["messages"])
    assert again["result"]["price"]["sum"] == 0
    assert Message.objects.count() == 3 and balance(user) == spent


def test_an_id_copied_from_the_example_does_not_stop_new_messages(user, compat_for):
    """A PHP snippet sends ``"id": "string"`` (the example's value) with every
    code: each new text is a new message; only a true replay is not sent."""
    api = compat_for(user)

    def send(text, phone="79161234567"):
        body = {
            "messages": [
                {
                    "recipient": phone,
                    "recipientType": "recipient",
                    "id": "string",
                    "source": "SMSinfo",
                    "timeout": 3600,
                    "shortenUrl": True,
                    "text": text,
                }
            ],
            "validate": False,
        }
        return api.send(body).json()

    first = send("Ваш код: 1234")["result"]["messages"][0]
    second = send("Ваш код: 5678")["result"]["messages"][0]
    other = send("Ваш код: 1234", phone="79031234567")["result"]["messages"][0]
    assert "repeated" not in second and "repeated" not in other
    assert len({first["smscId"], second["smscId"], other["smscId"]}) == 3
    replay = send("Ваш код: 5678")["result"]["messages"][0]
    assert replay["repeated"] is True and replay["smscId"] == second["smscId"]
    assert Message.objects.filter(client_ref="string").count() == 3


def test_the_same_message_twice_in_one_request_is_sent_once(user, compat_for):
    api = compat_for(user)
    message = {"recipient": "79161234567", "id": "a-1", "text": "Заказ готов"}
    resp = api.send(
        {"messages": [message, dict(message)], "duplicateRecipientsAllowed": True}
    ).json()
    first, second = resp["result"]["messages"]
    assert first["success"] and "repeated" not in first
    assert second["repeated"] is True and second["smscId"] == first["smscId"]
    assert Message.objects.count() == 1
    assert resp["result"]["price"]["sum"] == first["price"]


def test_a_reused_id_for_a_group_with_another_text_is_another_campaign(
    user, compat_for
):
    from contacts.models import Contact, Group

    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(account=user.account, group=group, phone="+79161234567")
    api = compat_for(user)

    def send(text):
        message = {"recipientType": "group", "recipient": group.pk, "id": "g"}
        return api.send({"messages": [{**message, "text": text}]}).json()

    first = send("Акция")["result"]["messages"][0]
    other = send("Другая акция")["result"]["messages"][0]
    again = send("Акция")["result"]["messages"][0]
    assert "repeated" not in other and other["campaignId"] != first["campaignId"]
    assert again["repeated"] is True and again["campaignId"] == first["campaignId"]


def test_a_request_whose_every_message_failed_is_not_a_success(user, compat_for):
    """A client that reads only ``success`` (``return $result["success"]``) and
    ``error.descr`` must not report "sent"."""
    StopNumber.objects.create(account_id=user.account_id, phone="+79161234567")
    api = compat_for(user)
    resp = api.send(
        {"messages": [{"recipient": "79161234567", "id": "x", "text": "Код 1"}]}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["success"] is False
    assert body["error"]["code"] == 1004 and body["error"]["descr"]
    assert body["result"]["messages"][0]["error"] == body["error"]
    resp = api.send(
        {
            "messages": [
                {"recipient": "12", "text": "Код"},
                {"recipient": "79031234567", "text": " "},
            ]
        }
    ).json()
    assert resp["success"] is False and resp["error"]["code"] == 1001
    assert resp["result"]["accepted"] == 0
    # A request with one message accepted is a success.
    resp = api.send(
        {
            "messages": [
                {"recipient": "12", "text": "Код"},
                {"recipient": "79031234567", "text": "Код"},
            ]
        }
    ).json()
    assert resp["success"] is True and "error" not in resp
    assert not Message.objects.filter(phone="+79161234567").exists()


def test_a_poor_account_is_told_so_in_success_and_descr(make_user, compat_for):
    poor = make_user(balance=0)
    resp = compat_for(poor).send(
        {"messages": [{"recipient": "79161234567", "text": "Код 1"}]}
    )
    body = resp.json()
    assert resp.status_code == 200 and body["success"] is False
    assert body["error"]["code"] == 402
    assert "Недостаточно средств" in body["error"]["descr"]


def test_a_csharp_client_names_the_sender_sender(user, compat_for):
    """``new { sender, recipient, text }`` serialised by System.Text.Json."""
    SenderName.objects.create(account=user.account, name="SHOP", status="approved")
    api = compat_for(user)
    resp = api.post(
        "/json/v1.0/sms/send/text",
        raw=json.dumps(
            {
                "messages": [
                    {"sender": "SHOP", "recipient": "79161234567", "text": "Привет"}
                ]
            }
        ),
    ).json()
    assert resp["success"] is True
    assert Message.objects.get().sender == "SHOP"
    refused = api.send(
        {
            "messages": [
                {"sender": "NOTMINE", "recipient": "79031234567", "text": "Привет"}
            ]
        }
    ).json()
    assert refused["success"] is False and refused["error"]["code"] == 1010
    # "source" wins when a client sends both.
    api.send(
        {
            "messages": [
                {
                    "source": "SMSinfo",
                    "sender": "SHOP",
                    "recipient": "79261234567",
                    "text": "Привет",
                }
            ]
        }
    )
    assert Message.objects.get(phone="+79261234567").sender == "SMSinfo"


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        json.dumps({"messages": []}),
        json.dumps({"messages": [{"recipient": "1", "text": "x"}], "validate": "?"}),
    ],
)
def test_errors_reach_clients_that_raise_on_4xx(user, compat_for, body):
    """``file_get_contents``, Guzzle and ``raise_for_status`` never read a 4xx
    body: the error is in a 200 answer."""
    resp = compat_for(user).post("/json/v1.0/sms/send/text", raw=body)
    assert resp.status_code == 200
    assert resp.json()["success"] is False and resp.json()["error"]["descr"]


def test_the_migration_digest_is_the_replay_key():
    """0012's frozen copy of the replay key must equal the live rule for the
    rows it backfills."""
    import importlib

    from integrations.compat import replay_key

    migration = importlib.import_module("messaging.migrations.0012_message_client_key")
    for args in (("17", "+79161234567", "Код"), ("string", "+375291234567", "a\nb")):
        assert migration._key(*args) == replay_key(*args)
