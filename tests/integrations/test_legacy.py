"""The XML API (``/API/XML/send.php``, ``balance.php``, ``report.php``) and the
legacy calls (``/lcabApi/sendSms.php``, ``getGroups.php``, ``info.php``) as
the provider's public clients call them (SPEC A3, issue 15).

The request bodies have the shapes those clients build — the provider's PHP
class (hand-made XML, texts not escaped, posted by curl as a form), its Bitrix
and Yii ports (``?returnType=json``), a Python client's report request, Go and
C# clients calling ``sendSms.php`` with a query string, a PHP library posting
JSON — without copying their code."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from defusedxml.ElementTree import fromstring
from django.utils import timezone

from billing.models import LedgerEntry
from cabinet.models import Account
from cabinet.services import token_create
from contacts.models import Contact, Group, StopNumber
from integrations import services
from messaging.models import Campaign, Message, MessageStatus, SenderName

pytestmark = pytest.mark.django_db

LOGIN, PASSWORD = "shop-1", "long-secret-1"
LATER = timezone.localtime(timezone.now() + timedelta(days=30)).strftime(
    "%Y-%m-%d 10:00:00"
)


@pytest.fixture
def creds(user):
    return services.protocol_credentials_save(
        account=user.account, login=LOGIN, password=PASSWORD
    )


def php_class_xml(*, text="", to=(), login=LOGIN, password=PASSWORD, **fields):
    """The XML the provider's PHP class writes: single-quoted attributes, tabs,
    values pasted in as they are (a text is not escaped)."""
    xml = (
        "<?xml version='1.0' encoding='UTF-8'?>\n\t\t<data>\n"
        f"\t\t\t<login>{login}</login>\n\t\t\t<password>{password}</password>\n\t\t\t"
    )
    if text:
        fields = {"text": text, **fields}
    for key, value in fields.items():
        xml += f"<{key}>{value}</{key}>"
    for number in to:
        if isinstance(number, tuple):
            xml += f"<to number='{number[0]}'>{number[1]}</to>"
        else:
            xml += f"<to number='{number}'></to>"
    return (xml + "\n\t\t</data>").encode()


def post_xml(client, method, body, *, json_answer=False, **extra):
    """curl with CURLOPT_POSTFIELDS = the XML string: a form content type."""
    path = f"/API/XML/{method}.php" + ("?returnType=json" if json_answer else "")
    resp = client.post(
        path, body, content_type="application/x-www-form-urlencoded", **extra
    )
    assert resp.status_code == 200
    if json_answer:
        return resp.json()["data"]
    root = fromstring(resp.content)
    assert root.tag == "data"
    return root


def value(root, tag):
    return root.findtext(tag)


def balance(user):
    return Account.objects.get(pk=user.account_id).balance


# --- XML API: send.php ----------------------------------------------------------
def test_the_php_class_sends_with_common_and_own_texts(user, creds, client):
    body = php_class_xml(
        text="Скидка 10% & подарок",  # the class pastes the text unescaped
        source="SMSinfo",
        action="send",
        to=["79161234567", ("+7(903) 123-45 67", "Ваш заказ готов")],
    )
    root = post_xml(client, "send", body)
    assert value(root, "code") == "1"
    assert value(root, "descr") == "Операция успешно завершена"
    assert value(root, "action") == "send"
    assert value(root, "allRecivers") == "2"
    assert value(root, "colSendAbonent") == "2"
    assert value(root, "colNonSendAbonent") == "0"
    messages = {m.phone: m for m in Message.objects.all()}
    assert messages["+79161234567"].text == "Скидка 10% & подарок"
    assert messages["+79031234567"].text == "Ваш заказ готов"
    spent = sum(m.price for m in messages.values())
    assert Decimal(value(root, "priceOfSending")) == spent
    assert balance(user) == Decimal("1000") - spent
    assert int(value(root, "colsmsOfSending")) == sum(
        m.parts for m in messages.values()
    )
    # Our smsid names the send: every message carries it (report.php reads it).
    smsid = value(root, "smsid")
    assert smsid and {m.client_ref for m in messages.values()} == {smsid}
    assert Campaign.objects.get().description == "XML API"


def test_the_bitrix_module_reads_json_with_return_type(user, creds, client):
    body = php_class_xml(
        text="Код 1234",
        source="SMSinfo",
        action="send",
        to=["79161234567"],
    )
    data = post_xml(client, "send", body, json_answer=True)
    assert data["code"] == "1"
    for field in (
        "descr",
        "datetime",
        "action",
        "allRecivers",
        "colSendAbonent",
        "colNonSendAbonent",
        "priceOfSending",
        "colsmsOfSending",
        "price",
        "smsid",
    ):
        assert data[field] != "", field
    assert data["colSendAbonent"] == "1"


def test_a_repeated_smsid_with_the_same_send_is_not_sent_again(user, creds, client):
    body = php_class_xml(text="Код 1234", smsid="order-77", to=["79161234567"])
    first = post_xml(client, "send", body)
    spent = balance(user)
    again = post_xml(client, "send", body)
    assert value(again, "code") == "1" and value(again, "smsid") == "order-77"
    assert value(again, "colSendAbonent") == "1"
    assert value(again, "priceOfSending") == "0.00"  # money: two decimals
    assert Message.objects.count() == 1 and balance(user) == spent
    # The same smsid with another text is a new send.
    other = php_class_xml(text="Код 9999", smsid="order-77", to=["79161234567"])
    post_xml(client, "send", other)
    assert Message.objects.count() == 2
    assert Decimal(value(first, "priceOfSending")) > 0


def test_recipients_written_as_elements_are_read_too(user, creds, client):
    """A Python client converts ``{"to": {"number": …}}`` to XML elements."""
    body = (
        f"<data><login>{LOGIN}</login><password>{PASSWORD}</password>"
        "<action>send</action><text>Код 77</text><source>SMSinfo</source>"
        "<to><number>79161234567</number></to><to>79031234567</to>"
        "<check>0</check><channel></channel><discountID></discountID></data>"
    ).encode()
    root = post_xml(client, "send", body)
    assert value(root, "code") == "1" and value(root, "colSendAbonent") == "2"
    assert sorted(Message.objects.values_list("text", flat=True)) == ["Код 77"] * 2


def test_check_prices_without_sending(user, creds, client):
    body = php_class_xml(text="Я" * 100, action="check", to=["79161234567"])
    root = post_xml(client, "send", body)
    assert value(root, "code") == "1" and value(root, "action") == "check"
    assert value(root, "colsmsOfSending") == "2"
    assert Decimal(value(root, "priceOfSending")) > 0
    assert not Message.objects.exists() and balance(user) == Decimal("1000")


def test_a_scheduled_send_waits(user, creds, client):
    body = php_class_xml(text="Напоминание", datetime=LATER, to=["79161234567"])
    root = post_xml(client, "send", body)
    assert value(root, "datetime") == LATER
    assert Message.objects.get().status == MessageStatus.DEFERRED


def test_refused_numbers_are_counted_and_named(user, creds, client):
    StopNumber.objects.create(account_id=user.account_id, phone="+79161234567")
    body = php_class_xml(text="Акция", to=["79161234567", "79031234567", "12"])
    root = post_xml(client, "send", body)
    assert value(root, "code") == "1"
    assert value(root, "allRecivers") == "3"
    assert value(root, "colSendAbonent") == "1"
    assert value(root, "colNonSendAbonent") == "2"
    assert "+79161234567" in value(root, "descr") and "12" in value(root, "descr")
    only_refused = php_class_xml(text="Акция", to=["79161234567"])
    root = post_xml(client, "send", only_refused)
    assert value(root, "code") == "1004" and "стоп-лист" in value(root, "descr")
    assert Message.objects.count() == 1


def test_unapproved_sender_and_no_money_are_errors(make_user, client):
    poor = make_user(balance=Decimal("0"))
    services.protocol_credentials_save(
        account=poor.account, login="poor", password=PASSWORD
    )
    body = php_class_xml(text="Код", to=["79161234567"], login="poor")
    root = post_xml(client, "send", body)
    assert value(root, "code") == "402" and "Недостаточно" in value(root, "descr")
    body = php_class_xml(text="Код", source="NOTMINE", to=["79161234567"], login="poor")
    assert value(post_xml(client, "send", body), "code") == "1010"
    assert not Message.objects.exists()


def test_a_sender_name_may_come_as_sender(user, creds, client):
    SenderName.objects.create(account=user.account, name="SHOP", status="approved")
    body = php_class_xml(text="Код", sender="SHOP", to=["79161234567"])
    assert value(post_xml(client, "send", body), "code") == "1"
    assert Message.objects.get().sender == "SHOP"


@pytest.mark.parametrize(
    "body, code",
    [
        (b"", "400"),
        (b"login=shop&password=x", "400"),
        (b"<data><login>shop-1</login>", "400"),
        (b"<request><login>shop-1</login></request>", "400"),
        (
            b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<data><login>shop-1</login><password>long-secret-1</password>"
            b"<text>&b;</text><to number='79161234567'></to></data>",
            "400",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY x SYSTEM '
            b'"file:///etc/passwd">]><data><login>shop-1</login>'
            b"<password>long-secret-1</password><text>&x;</text>"
            b"<to number='79161234567'></to></data>",
            "400",
        ),
        (php_class_xml(text="Код", to=[], action="delete"), "400"),
        (php_class_xml(text="Код", to=[]), "1001"),
        (php_class_xml(text="", to=["79161234567"]), "1002"),
        (php_class_xml(text="Код", to=["79161234567"], datetime="завтра"), "400"),
        (php_class_xml(text="Код", to=["79161234567"], channel="fast"), "400"),
        (php_class_xml(text="x\x00y", to=["79161234567"]), "400"),
    ],
    ids=[
        "empty",
        "a-form",
        "broken",
        "other-root",
        "entities",
        "external-entity",
        "action",
        "no-recipients",
        "no-text",
        "date",
        "channel",
        "nul",
    ],
)
def test_bad_xml_requests_get_an_error_and_change_nothing(
    user, creds, client, body, code
):
    root = post_xml(client, "send", body)
    assert value(root, "code") == code and value(root, "descr")
    assert not Message.objects.exists() and balance(user) == Decimal("1000")


# --- authentication and limits (XML API and lcabApi alike) ----------------------
def test_protocol_logins_ip_rules_and_tokens(user, client):
    services.protocol_credentials_save(
        account=user.account,
        login=LOGIN,
        password=PASSWORD,
        ip_restricted=True,
        allowed_ips="10.0.0.0/8",
    )
    body = php_class_xml(text="Код", to=["79161234567"])
    assert value(post_xml(client, "balance", body, REMOTE_ADDR="10.1.1.1"), "code") == (
        "1"
    )
    wrong_ip = post_xml(client, "send", body, REMOTE_ADDR="192.0.2.7")
    assert value(wrong_ip, "code") == "4"
    wrong = post_xml(
        client, "send", php_class_xml(text="Код", to=["79161234567"], password="x")
    )
    assert value(wrong, "code") == "3"
    missing = post_xml(client, "balance", b"<data></data>")
    assert value(missing, "code") == "2"
    # A "messaging" token works instead of the login, with its own IP list.
    key = token_create(account=user.account, scopes=["messaging"]).key
    by_token = post_xml(
        client,
        "send",
        "<data><text>Код</text><to number='79161234567'/></data>".encode(),
        HTTP_X_TOKEN=key,
    )
    assert value(by_token, "code") == "1"
    chat = token_create(account=user.account, scopes=["chat"]).key
    refused = post_xml(client, "balance", b"<data/>", HTTP_X_TOKEN=chat)
    assert value(refused, "code") == "403"
    assert Message.objects.count() == 1
    Account.objects.filter(pk=user.account_id).update(is_blocked=True)
    blocked = post_xml(client, "balance", body, REMOTE_ADDR="10.1.1.1")
    assert value(blocked, "code") == "5"


def test_the_rate_limit_applies_to_protocol_logins(user, creds, client, settings):
    settings.API_RATE_LIMIT = "2/m"
    body = php_class_xml()
    codes = [value(post_xml(client, "balance", body), "code") for _ in range(3)]
    assert codes == ["1", "1", "429"]
    resp = client.get("/lcabApi/info.php", {"login": LOGIN, "password": PASSWORD})
    assert resp.json()["code"] == 429 and int(resp["Retry-After"]) >= 1


def test_other_methods_and_verbs_are_refused_in_xml(user, creds, client):
    root = post_xml(client, "reportNumber", php_class_xml())
    assert value(root, "code") == "404" and "send" in value(root, "descr")
    resp = client.get("/API/XML/send.php")
    assert resp.status_code == 200 and fromstring(resp.content).findtext("code") == (
        "405"
    )


# --- XML API: balance.php, report.php -------------------------------------------
def test_balance(user, creds, client):
    root = post_xml(client, "balance", php_class_xml())
    assert value(root, "code") == "1" and value(root, "account") == "1000.00"
    data = post_xml(client, "balance", php_class_xml(), json_answer=True)
    assert float(data["account"]) == 1000.0


def test_report_of_one_send_lists_numbers_by_status(user, creds, client):
    body = php_class_xml(
        text="Акция", smsid="camp-1", to=["79161234567", "79161230000"]
    )
    post_xml(client, "send", body)
    # The Python client's status request: <smsid> only.
    root = post_xml(client, "report", php_class_xml(smsid="camp-1"))
    assert value(root, "code") == "1"
    detail = root.find("detail")
    assert [n.text for n in detail.find("delivered")] == ["79161234567"]
    assert [n.text for n in detail.find("notDelivered")] == ["79161230000"]
    for bucket in ("waiting", "enqueued", "cancel", "onModer", "process"):
        assert detail.find(bucket) is not None and not list(detail.find(bucket))
    sms = root.find("sms")
    assert sms.findtext("smsid") == "camp-1" and sms.findtext("allCol") == "2"
    assert sms.findtext("deliveredCol") == "1"
    assert sms.findtext("notDeliveredCol") == "1"
    # The Bitrix module asks for delivery times and reads JSON.
    data = post_xml(
        client,
        "report",
        php_class_xml(smsid="camp-1", **{"return-delivery-datetime": 1}),
        json_answer=True,
    )
    delivered = data["detail"]["delivered"]["number"]
    assert delivered["@value"] == "79161234567"
    assert delivered["@attributes"]["datetime"]
    unknown = post_xml(client, "report", php_class_xml(smsid="nope"))
    assert value(unknown, "code") == "404"


def test_report_by_period_lists_the_sends(user, other_user, creds, client):
    post_xml(client, "send", php_class_xml(text="Первая", to=["79161234567"]))
    SenderName.objects.create(account=user.account, name="SHOP", status="approved")
    post_xml(
        client,
        "send",
        php_class_xml(text="Вторая", source="SHOP", to=["79031234567"], smsid="s2"),
    )
    # Another account's sends never show.
    services.protocol_credentials_save(
        account=other_user.account, login="them", password=PASSWORD
    )
    post_xml(
        client, "send", php_class_xml(text="Чужая", to=["79161234567"], login="them")
    )
    everything = php_class_xml(
        start="0000-00-00", stop="0000-00-00", source="%", number="%"
    )
    root = post_xml(client, "report", everything)
    sms = root.findall("sms")
    assert [s.findtext("text") for s in sms] == ["Вторая", "Первая"]
    assert sms[0].findtext("smsid") == "s2" and sms[0].findtext("source") == "SHOP"
    assert sms[1].findtext("deliveredCol") == "1"
    assert Decimal(sms[1].findtext("payment")) > 0
    by_source = post_xml(
        client,
        "report",
        php_class_xml(start="2000-01-01", stop="2099-12-31", source="SHOP"),
    )
    assert [s.findtext("smsid") for s in by_source.findall("sms")] == ["s2"]
    by_number = post_xml(client, "report", php_class_xml(number="79161234567"))
    assert [s.findtext("text") for s in by_number.findall("sms")] == ["Первая"]
    nothing = post_xml(
        client, "report", php_class_xml(start="2000-01-01", stop="2000-01-02")
    )
    assert value(nothing, "code") == "1" and nothing.findall("sms") == []
    bad = post_xml(client, "report", php_class_xml(start="01.01.2020"))
    assert value(bad, "code") == "400"


def test_report_by_a_json_api_id(user, creds, compat_for, client):
    api = compat_for(user)
    api.send({"messages": [{"recipient": "79161234567", "id": "j-1", "text": "A"}]})
    root = post_xml(client, "report", php_class_xml(smsid="j-1"))
    assert [n.text for n in root.find("detail").find("delivered")] == ["79161234567"]


# --- lcabApi ----------------------------------------------------------------------
def test_send_sms_by_query_string(user, creds, client):
    """Go and C# clients: GET sendSms.php?login=…&password=…&to=…&txt=…"""
    resp = client.get(
        "/lcabApi/sendSms.php",
        {
            "send": 1,
            "login": LOGIN,
            "password": PASSWORD,
            "to": "89161234567",
            "txt": "Код 1234",
            "source": "SMSinfo",
            "use_alfasource": 1,
            "channel": 0,
        },
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["code"] == 1 and body["descr"] == "Операция успешно завершена"
    message = Message.objects.get()
    assert message.phone == "+79161234567" and message.text == "Код 1234"
    assert body["smsid"] == message.client_ref
    assert body["colsmsOfSending"] == 1
    assert Decimal(str(body["priceOfSending"])) == message.price
    assert body["allRecivers"] == 1 and body["colNonSendAbonent"] == 0
    assert Campaign.objects.get().options["route_channel"] == 0


def test_send_sms_by_json_body_to_several_numbers(user, creds, client):
    """A PHP library posts JSON: ``to`` is a list; another passes a string of
    numbers separated by commas."""
    resp = client.post(
        "/lcabApi/sendSms.php",
        json.dumps(
            {
                "login": LOGIN,
                "password": PASSWORD,
                "to": ["79161234567", "79031234567"],
                "txt": "Привет",
                "source": "SMSinfo",
            }
        ),
        content_type="application/json",
    )
    assert resp.json()["code"] == 1 and resp.json()["colSendAbonent"] == 2
    resp = client.post(
        "/lcabApi/sendSms.php",
        {
            "login": LOGIN,
            "password": PASSWORD,
            "to": "79261234567, 79161230000",
            "txt": "Пока",
            "smsid": "mine-1",
        },
    )
    assert resp.json()["code"] == 1 and resp.json()["smsid"] == "mine-1"
    assert Message.objects.filter(client_ref="mine-1").count() == 2
    assert Message.objects.count() == 4


def test_send_sms_to_a_group_and_later(user, creds, client):
    group = Group.objects.create(account=user.account, name="Клиенты", size=2)
    for phone in ("+79161234567", "+79031234567"):
        Contact.objects.create(account=user.account, group=group, phone=phone)
    resp = client.get(
        "/lcabApi/sendSms.php",
        {
            "login": LOGIN,
            "password": PASSWORD,
            "idGroup": group.pk,
            "txt": "Акция",
            "dateTimeSend": LATER,
        },
    ).json()
    assert resp["code"] == 1 and resp["allRecivers"] == 2
    assert resp["datetime"] == LATER
    campaign = Campaign.objects.get()
    assert campaign.audience["group_ids"] == [group.pk]
    assert Message.objects.filter(campaign=campaign).count() == 2
    foreign = client.get(
        "/lcabApi/sendSms.php",
        {"login": LOGIN, "password": PASSWORD, "idGroup": 999999, "txt": "Акция"},
    ).json()
    assert foreign["code"] == 404


def test_send_sms_errors(user, creds, client):
    cases = [
        ({"to": "79161234567"}, 1002),
        ({"txt": "Код"}, 1001),
        ({"to": "12", "txt": "Код"}, 1001),
        ({"to": "79161234567", "txt": "Код", "dateTimeSend": "завтра"}, 400),
        ({"to": "79161234567", "txt": "Код", "source": "NOTMINE"}, 1010),
    ]
    for params, code in cases:
        resp = client.get(
            "/lcabApi/sendSms.php", {"login": LOGIN, "password": PASSWORD, **params}
        )
        assert resp.status_code == 200
        assert resp.json()["code"] == code and resp.json()["descr"], params
    resp = client.post(
        "/lcabApi/sendSms.php",
        "{broken",
        content_type="application/json",
    )
    assert resp.json()["code"] == 400
    resp = client.post(
        "/lcabApi/sendSms.php",
        {"login": LOGIN, "password": PASSWORD, "to": "79161234567", "txt": "a\x00b"},
    )
    assert resp.status_code == 200 and resp.json()["code"] == 400
    assert not Message.objects.exists()
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_get_groups(user, other_user, creds, client):
    mine = Group.objects.create(account=user.account, name="Клиенты", size=3)
    Group.objects.create(account=user.account, name="Стоп", is_stoplist=True)
    Group.objects.create(account=other_user.account, name="Чужая")
    resp = client.get(
        "/lcabApi/getGroups.php", {"login": LOGIN, "password": PASSWORD}
    ).json()
    assert resp["code"] == 1
    assert [(g["name"], g["count"]) for g in resp["groups"]] == [
        ("Клиенты", 3),
        ("Стоп", 0),
    ]
    assert resp["groups"][0]["id"] == str(mine.pk)
    one = client.get(
        "/lcabApi/getGroups.php",
        {"login": LOGIN, "password": PASSWORD, "id": mine.pk},
    ).json()
    assert [g["name"] for g in one["groups"]] == ["Клиенты"]
    by_name = client.get(
        "/lcabApi/getGroups.php",
        {"login": LOGIN, "password": PASSWORD, "name": "сто"},
    ).json()
    assert [g["name"] for g in by_name["groups"]] == ["Стоп"]


def test_info_lists_the_sender_names_and_a_description(user, creds, client):
    SenderName.objects.create(account=user.account, name="SHOP", status="approved")
    SenderName.objects.create(account=user.account, name="WAIT", status="pending")
    # The Go client: GET info.php?login=…&password=…
    resp = client.get("/lcabApi/info.php", {"login": LOGIN, "password": PASSWORD})
    body = resp.json()
    assert body["code"] == 1 and body["descr"] == "Операция успешно завершена"
    assert body["source"] == ["SMSinfo", "SHOP"]  # the shared default first
    assert body["account"] == 1000.0
    assert body["organizationDescr"] == user.account.name
    # A JSON body (the PHP library) and a token instead of the login.
    resp = client.post(
        "/lcabApi/info.php",
        json.dumps({"login": LOGIN, "password": PASSWORD}),
        content_type="application/json",
    )
    assert resp.json()["code"] == 1
    key = token_create(account=user.account, scopes=["messaging"]).key
    assert client.get("/lcabApi/info.php", HTTP_X_TOKEN=key).json()["code"] == 1
