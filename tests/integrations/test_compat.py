"""The provider-compatible JSON API v1.0 (SPEC A3)."""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from cabinet.models import Account, ApiToken
from cabinet.services import token_revoke
from messaging.models import Campaign, Message, MessageStatus

pytestmark = pytest.mark.django_db


def one(recipient="79161234567", id="m-1", text="Ваш код 1234", **extra):
    return {
        "recipient": recipient,
        "recipientType": "recipient",
        "id": id,
        "text": text,
        **extra,
    }


def balance(user):
    return Account.objects.get(pk=user.account_id).balance


def test_it_sends_messages_and_answers_each_by_the_clients_id(user, compat_for):
    api = compat_for(user)
    resp = api.send(
        {
            "messages": [one(id="a"), one("89031234567", id="b", text="Заказ")],
            "tags": ["orders"],
        }
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["success"] is True
    results = body["result"]["messages"]
    assert [r["id"] for r in results] == ["a", "b"]
    assert all(r["success"] for r in results)
    messages = {m.client_ref: m for m in Message.objects.all()}
    assert set(messages) == {"a", "b"}
    assert results[1]["recipient"] == "+79031234567"
    assert results[0]["smscId"] == messages["a"].pk
    assert results[0]["status"] == "delivered"  # the fake gateway is instant in tests
    total = sum(m.price for m in messages.values())
    assert Decimal(str(body["result"]["price"]["sum"])) == total
    assert balance(user) == Decimal("1000") - total
    campaign = Campaign.objects.get()
    assert campaign.source == "compat" and campaign.tags == ["orders"]


def test_a_repeated_id_is_not_sent_twice(user, compat_for):
    api = compat_for(user)
    first = api.send({"messages": [one(id="order-7")]}).json()["result"]["messages"][0]
    after_first = balance(user)
    again = api.send(
        {"messages": [one(id="order-7"), one("79031234567", id="order-8")]}
    )
    results = again.json()["result"]["messages"]
    assert results[0]["smscId"] == first["smscId"]
    assert results[0]["repeated"] is True
    assert results[1]["success"] and "repeated" not in results[1]
    assert Message.objects.filter(client_ref="order-7").count() == 1
    assert Message.objects.count() == 2
    price_8 = Message.objects.get(client_ref="order-8").price
    assert balance(user) == after_first - price_8
    assert again.json()["result"]["price"]["sum"] == float(price_8)


def test_a_concurrent_send_of_the_same_id_answers_the_first(
    user, compat_for, monkeypatch
):
    """Two requests with one id pass the idempotency lookup at the same time:
    the unique client_ref rolls the second campaign back and it answers the
    first one's message (simulated by hiding the first from the lookup)."""
    from integrations import compat

    api = compat_for(user)
    first = api.send({"messages": [one(id="race")]}).json()["result"]["messages"][0]
    after_first = balance(user)
    real = compat._existing
    calls = {"n": 0}

    def stale_then_real(account_id, ids):
        calls["n"] += 1
        return {} if calls["n"] == 1 else real(account_id, ids)

    monkeypatch.setattr(compat, "_existing", stale_then_real)
    resp = api.send({"messages": [one(id="race"), one("79031234567", id="race-2")]})
    results = resp.json()["result"]["messages"]
    assert results[0]["smscId"] == first["smscId"] and results[0]["repeated"]
    assert results[1]["success"] and "repeated" not in results[1]
    assert Message.objects.filter(client_ref="race").count() == 1
    price_2 = Message.objects.get(client_ref="race-2").price
    assert balance(user) == after_first - price_2


def test_ids_are_per_account(user, other_user, compat_for):
    compat_for(user).send({"messages": [one(id="same")]})
    resp = compat_for(other_user).send({"messages": [one(id="same")]})
    assert "repeated" not in resp.json()["result"]["messages"][0]
    assert Message.objects.filter(client_ref="same").count() == 2


def test_validate_prices_without_sending_or_charging(user, compat_for):
    api = compat_for(user)
    long_text = "Я" * 100  # two UCS-2 parts
    resp = api.send(
        {
            "validate": True,
            "messages": [one(id="v1"), one("79031234567", id="v2", text=long_text)],
        }
    )
    body = resp.json()["result"]
    assert body["validate"] is True
    assert [m["parts"] for m in body["messages"]] == [1, 2]
    assert body["price"]["sum"] > 0
    assert body["price"]["sum"] == pytest.approx(
        sum(m["price"] for m in body["messages"])
    )
    assert body["price"]["enough"] is True
    assert not Message.objects.exists() and not Campaign.objects.exists()
    assert balance(user) == Decimal("1000")
    assert not LedgerEntry.objects.filter(
        account_id=user.account_id, kind="charge"
    ).exists()


def test_duplicates_are_dropped_unless_allowed(user, compat_for):
    api = compat_for(user)
    resp = api.send({"messages": [one(id="d1"), one("+7 (916) 123-45-67", id="d2")]})
    results = resp.json()["result"]["messages"]
    assert results[0]["success"] and not results[1]["success"]
    assert results[1]["error"]["code"] == 1003
    assert Message.objects.count() == 1
    resp = api.send(
        {"duplicateRecipientsAllowed": True, "messages": [one(id="d3"), one(id="d4")]}
    )
    assert all(m["success"] for m in resp.json()["result"]["messages"])
    assert Message.objects.filter(client_ref__in=["d3", "d4"]).count() == 2


def test_operator_allow_and_deny_lists(user, compat_for):
    api = compat_for(user)
    mts, beeline = "79161234567", "79031234567"  # МТС, Билайн in the numbering plan
    resp = api.send(
        {
            "opsosAllowed": ["mts"],
            "messages": [one(mts, id="o1"), one(beeline, id="o2")],
        }
    )
    results = resp.json()["result"]["messages"]
    assert results[0]["success"] and results[1]["error"]["code"] == 1005
    resp = api.send(
        {
            "opsosDisallowed": ["МТС"],
            "messages": [one(mts, id="o3"), one(beeline, id="o4")],
        }
    )
    results = resp.json()["result"]["messages"]
    assert results[0]["error"]["code"] == 1005 and results[1]["success"]
    assert set(Message.objects.values_list("client_ref", flat=True)) == {"o1", "o4"}


def test_scheduled_send_waits_for_its_time(user, compat_for):
    api = compat_for(user)
    day = (timezone.now() + timedelta(days=30)).date()
    resp = api.send(
        {
            "startDateTime": f"{day} 10:30:00",
            "timeZone": "Asia/Yekaterinburg",
            "messages": [one(id="later")],
        }
    )
    result = resp.json()["result"]
    assert result["messages"][0]["status"] == "waiting"
    message = Message.objects.get()
    assert message.status == MessageStatus.DEFERRED
    expected = datetime(
        day.year, day.month, day.day, 10, 30, tzinfo=ZoneInfo("Asia/Yekaterinburg")
    )
    assert message.send_at == expected
    status = api.status(["later"]).json()["result"][0]
    assert status["status"] == "waiting"


def test_offset_time_zones_are_understood(user, compat_for):
    api = compat_for(user)
    day = (timezone.now() + timedelta(days=3)).date()
    api.send(
        {
            "startDateTime": f"{day} 10:30:00",
            "timeZone": "+05:00",
            "messages": [one(id="z")],
        }
    )
    assert Message.objects.get().send_at.utcoffset().total_seconds() == 0
    assert Message.objects.get().send_at.hour == 5


def test_transliterate_timeout_and_short_links(user, compat_for):
    api = compat_for(user)
    resp = api.send(
        {
            "transliterate": True,
            "messages": [
                one(id="t1", text="Привет, мир", timeout=3600),
                one(
                    "79031234567",
                    id="t2",
                    text="Смотрите https://example.com/a/b",
                    shortenUrl=True,
                ),
            ],
        }
    )
    assert all(m["success"] for m in resp.json()["result"]["messages"])
    m1 = Message.objects.get(client_ref="t1")
    assert m1.text == "Privet, mir"
    assert m1.expires_at is not None
    assert 3590 <= (m1.expires_at - m1.send_at).total_seconds() <= 3610
    m2 = Message.objects.get(client_ref="t2")
    assert "example.com/a/b" not in m2.text  # replaced by a short link
    assert m1.campaign_id != m2.campaign_id  # different options → separate campaigns


def test_messages_are_grouped_into_one_campaign_per_sender(user, compat_for):
    api = compat_for(user)
    api.send(
        {"messages": [one(id=f"g{i}", recipient=f"7916123450{i}") for i in range(5)]}
    )
    assert Campaign.objects.count() == 1
    assert Campaign.objects.get().recipients == 5


def test_an_unapproved_sender_fails_only_its_messages(user, compat_for):
    api = compat_for(user)
    resp = api.send(
        {"messages": [one(id="s1", source="NOTMINE"), one("79031234567", id="s2")]}
    )
    results = resp.json()["result"]["messages"]
    assert results[0]["error"]["code"] == 1010
    assert results[1]["success"]
    assert list(Message.objects.values_list("client_ref", flat=True)) == ["s2"]


def test_stop_listed_numbers_are_refused(user, compat_for):
    from contacts.models import StopNumber

    StopNumber.objects.create(account_id=user.account_id, phone="+79161234567")
    api = compat_for(user)
    resp = api.send({"messages": [one(id="x")]})
    assert resp.json()["result"]["messages"][0]["error"]["code"] == 1004
    assert not Message.objects.exists()
    resp = api.send({"messages": [one(id="y"), one("79031234567", id="z")]})
    results = resp.json()["result"]["messages"]
    assert results[0]["error"]["code"] == 1004 and results[1]["success"]
    assert list(Message.objects.values_list("client_ref", flat=True)) == ["z"]
    resp = api.send({"validate": True, "messages": [one(id="v"), one("79031234567")]})
    results = resp.json()["result"]["messages"]
    assert results[0]["error"]["code"] == 1004 and results[1]["success"]


def test_a_message_can_address_a_contact_group(user, other_user, compat_for):
    from contacts.models import Contact, Group

    group = Group.objects.create(account=user.account, name="Клиенты")
    for phone in ("+79161234567", "+79031234567", "+79261234567"):
        Contact.objects.create(account=user.account, group=group, phone=phone)
    theirs = Group.objects.create(account=other_user.account, name="Чужая")
    api = compat_for(user)
    quote = api.send(
        {
            "validate": True,
            "messages": [
                {
                    "recipientType": "group",
                    "recipient": group.pk,
                    "id": "g",
                    "text": "Акция",
                }
            ],
        }
    )
    result = quote.json()["result"]
    assert result["messages"][0]["recipients"] == 3 and result["price"]["sum"] > 0
    assert not Message.objects.exists()
    resp = api.send(
        {
            "messages": [
                {
                    "recipientType": "group",
                    "recipient": group.pk,
                    "id": "g",
                    "text": "Акция",
                },
                {
                    "recipientType": "group",
                    "recipient": theirs.pk,
                    "id": "t",
                    "text": "Акция",
                },
                {
                    "recipientType": "group",
                    "recipient": "abc",
                    "id": "x",
                    "text": "Акция",
                },
            ]
        }
    )
    results = resp.json()["result"]["messages"]
    assert results[0]["success"] and results[0]["campaignId"]
    assert results[1]["error"]["code"] == 404  # a foreign group is not found
    assert results[2]["error"]["code"] == 1001
    assert Message.objects.filter(campaign_id=results[0]["campaignId"]).count() == 3
    spent = Decimal("1000") - balance(user)
    again = api.send(
        {
            "messages": [
                {
                    "recipientType": "group",
                    "recipient": group.pk,
                    "id": "g",
                    "text": "Акция",
                }
            ]
        }
    )
    assert again.json()["result"]["messages"][0]["repeated"] is True
    assert Decimal("1000") - balance(user) == spent
    assert Campaign.objects.count() == 1


def test_per_message_errors_do_not_stop_the_rest(user, compat_for):
    api = compat_for(user)
    resp = api.send(
        {
            "messages": [
                one("abc", id="e1"),
                one(id="e2", text="   "),
                one(id="e3", text=123),
                one(id="e4", timeout=5),
                one(id="e5", recipientType="email"),
                "not an object",
                one(id="e6", text="Я" * 2001),
                one(id="ok"),
                one("79031234567", id="ok"),
            ]
        }
    )
    results = resp.json()["result"]["messages"]
    # One id for two numbers is two messages (it was error 1006 once).
    assert [r.get("error", {}).get("code") for r in results] == [
        1001,
        1002,
        1007,
        1011,
        1008,
        1007,
        1009,
        None,
        None,
    ]
    assert resp.json()["success"] is True
    assert resp.json()["result"]["accepted"] == 2
    assert sorted(Message.objects.values_list("phone", flat=True)) == [
        "+79031234567",
        "+79161234567",
    ]


def test_insufficient_funds_is_reported_per_message_and_changes_nothing(
    make_user, compat_for
):
    poor = make_user(balance=Decimal("1"))
    resp = compat_for(poor).send({"messages": [one(id="p")]})
    result = resp.json()["result"]["messages"][0]
    assert result["error"]["code"] == 402
    assert "Недостаточно средств" in result["error"]["descr"]
    assert not Message.objects.exists()
    assert balance(poor) == Decimal("1")


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{not json", 400),
        ("", 400),
        ("[1, 2]", 400),
        (json.dumps({"messages": "79161234567"}), 400),
        (json.dumps({"messages": []}), 400),
        (json.dumps({"messages": [one()], "validate": "maybe"}), 400),
        (json.dumps({"messages": [one()], "tags": {"a": 1}}), 400),
        (json.dumps({"messages": [one()], "startDateTime": "tomorrow"}), 400),
        (
            json.dumps(
                {
                    "messages": [one()],
                    "startDateTime": "2030-01-01 10:00:00",
                    "timeZone": "Mars/Olympus",
                }
            ),
            400,
        ),
        (
            json.dumps({"messages": [one()], "startDateTime": "2099-01-01 10:00:00"}),
            400,
        ),
        (json.dumps({"messages": [one()], "timeRange": "late"}), 400),
        (json.dumps({"messages": [one()], "smooth": {"portions": 1}}), 400),
        (json.dumps({"messages": [one()], "channel": "fast"}), 400),
        # A scenario that does not exist (or is another account's): 404.
        (json.dumps({"messages": [one()], "schemeId": 5}), 404),
        (json.dumps({"messages": [one()], "schemeId": "five"}), 400),
        (json.dumps({"messages": [one()], "tags": ["a\x00b"]}), 400),
    ],
)
def test_bad_requests_get_a_documented_error_and_change_nothing(
    user, compat_for, raw, code
):
    resp = compat_for(user).send(None, raw=raw)
    # The provider answers errors in the body: HTTP 200, success false.
    assert resp.status_code == 200
    body = resp.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["descr"]
    assert not Message.objects.exists()
    assert balance(user) == Decimal("1000")


@pytest.mark.parametrize(
    "field, value",
    [
        ("text", "Ваш код\x001234"),
        ("id", "m\x001"),
        ("source", "SMS\x00info"),
        ("recipient", "7916\x001234567"),
    ],
)
def test_a_nul_character_fails_its_message_not_the_server(
    user, compat_for, field, value
):
    """PostgreSQL cannot store U+0000: the message gets a documented error."""
    resp = compat_for(user).send({"messages": [one(**{field: value}), one(id="ok")]})
    assert resp.status_code == 200
    bad, good = resp.json()["result"]["messages"]
    assert bad["success"] is False and bad["error"]["descr"]
    assert good["success"] is True
    assert Message.objects.count() == 1


def test_too_many_messages_is_refused_whole(user, compat_for):
    messages = [{"recipient": "79161234567", "text": "x"}] * 100_000
    resp = compat_for(user).send({"messages": messages})
    assert resp.status_code == 200
    assert resp.json()["error"]["code"] == 413
    assert "не более 10000" in resp.json()["error"]["descr"]
    assert not Message.objects.exists()


def test_an_oversized_body_is_refused(user, compat_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    resp = compat_for(user).send({"messages": [one(text="x" * 20_000)]})
    assert resp.status_code == 200
    assert resp.json() == {
        "success": False,
        "error": {"code": 413, "descr": "Слишком большое тело запроса."},
    }


def test_authentication_errors(user, compat_for, client):
    def error(resp):
        assert resp.status_code == 200  # errors are in the body
        assert resp.json()["success"] is False
        return resp.json()["error"]

    resp = client.post(
        "/json/v1.0/sms/send/text",
        json.dumps({"messages": [one()]}),
        content_type="application/json",
    )
    assert error(resp)["code"] == 401
    resp = client.post(
        "/json/v1.0/sms/send/text",
        "{}",
        content_type="application/json",
        HTTP_X_TOKEN="wrong",
    )
    assert error(resp)["code"] == 401
    api = compat_for(user)
    token_revoke(token=ApiToken.objects.get(pk=api.token.pk))
    resp = api.send({"messages": [one()]})
    assert "отозван" in error(resp)["descr"]
    limited = compat_for(user, allowed_ips="192.168.0.0/24")
    resp = limited.send({"messages": [one()]}, REMOTE_ADDR="10.0.0.1")
    assert error(resp)["code"] == 401 and "IP" in error(resp)["descr"]
    resp = limited.send({"messages": [one()]}, REMOTE_ADDR="192.168.0.9")
    assert resp.json()["success"] is True
    chat = compat_for(user, scopes=["chat"])
    resp = chat.send({"messages": [one(id="chat")]})
    assert error(resp)["code"] == 403
    assert Message.objects.count() == 1


def test_blocked_account_cannot_send(user, compat_for):
    api = compat_for(user)
    Account.objects.filter(pk=user.account_id).update(is_blocked=True)
    resp = api.send({"messages": [one()]})
    assert resp.status_code == 200 and resp.json()["error"]["code"] == 401
    assert "заблокирован" in resp.json()["error"]["descr"]
    assert not Message.objects.exists()


def test_only_post_is_allowed(user, compat_for):
    api = compat_for(user)
    resp = api.client.get("/json/v1.0/sms/send/text", HTTP_X_TOKEN=api.key)
    assert resp.status_code == 200 and resp["Allow"] == "POST"
    assert resp.json()["error"]["code"] == 405


def test_rate_limit_per_token(user, compat_for, settings):
    settings.API_RATE_LIMIT = "3/m"
    api = compat_for(user)
    codes = [api.status(["x"]).json().get("error", {}).get("code") for _ in range(4)]
    assert codes == [None, None, None, 429]
    resp = api.status(["x"])
    assert resp.status_code == 200 and resp.json()["error"]["code"] == 429
    assert 1 <= int(resp["Retry-After"]) <= 60
    # Another token of the same account has its own budget.
    assert compat_for(user).status(["x"]).json()["success"] is True


def test_status_words_and_tenancy(user, other_user, compat_for):
    api = compat_for(user)
    api.send({"messages": [one(id="ok"), one("79161230000", id="bad")]})
    resp = api.status(["ok", "bad", "nope"])
    result = resp.json()["result"]
    assert [r["status"] for r in result] == ["delivered", "undelivered", "unknown"]
    assert result[2]["error"]["code"] == 404
    # Another account cannot see these ids.
    foreign = compat_for(other_user).status(["ok"]).json()["result"][0]
    assert foreign["status"] == "unknown" and "smscId" not in foreign


def test_status_request_errors(user, compat_for):
    api = compat_for(user)
    assert api.status({"x": 1}).json()["error"]["code"] == 400
    assert api.status([{"nested": True}]).json()["error"]["code"] == 400
    empty = api.status([])
    assert empty.status_code == 200 and empty.json()["error"]["code"] == 400


def test_status_words_cover_every_status():
    from integrations.compat import STATUS_WORDS, status_word

    assert set(STATUS_WORDS) == set(MessageStatus.values)
    words = {
        "process",
        "waiting",
        "enqueued",
        "sending",
        "moder",
        "unknown",
        "delivered",
        "undelivered",
        "finalizator",
        "cancel",
        "moderCancel",
        "providerCancel",
        "click",
    }
    assert set(STATUS_WORDS.values()) <= words
    assert status_word("cancelled", "rejected") == "moderCancel"
    assert status_word("no-such") == "unknown"


def test_a_thousand_messages_are_accepted_in_one_request(make_user, compat_for):
    api = compat_for(make_user(balance=Decimal("10000")))
    messages = [
        one(f"7916{i:07d}", id=f"bulk-{i}", text="Акция: скидка 10%")
        for i in range(1000)
    ]
    resp = api.send({"messages": messages})
    result = resp.json()["result"]
    assert result["accepted"] == 1000
    assert Message.objects.count() == 1000
    # The < 300 ms target is measured by `manage.py bench api`, not here.
