"""End to end through a real HTTP server (pytest-django's ``live_server``): the
legacy calls and the XML API as a client on another machine makes them —
raw bytes over a socket, the client's own content types, and HTTP errors
raised by the client library (urllib, like ``raise_for_status``) on any 4xx."""

import json
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from defusedxml.ElementTree import fromstring

from cabinet.models import Account
from cabinet.services import token_create
from contacts.models import Contact, Group
from integrations import services
from messaging.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN, PASSWORD = "shop-e2e", "long-secret-1"


def fetch(url, data: bytes | None = None, headers: dict | None = None):
    """urllib raises HTTPError for a 4xx/5xx: every answer here must be 200."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200
        return response.headers.get("Content-Type", ""), response.read()


def xml_call(base, method, inner: str, *, json_answer=False):
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>\n<data>\n"
        f"<login>{LOGIN}</login>\n<password>{PASSWORD}</password>\n{inner}\n</data>"
    ).encode()
    url = f"{base}/API/XML/{method}.php" + ("?returnType=json" if json_answer else "")
    content_type, raw = fetch(
        url, body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    if json_answer:
        assert content_type.startswith("application/json")
        return json.loads(raw)["data"]
    assert "xml" in content_type
    return fromstring(raw)


def lcab(base, name, **params):
    query = urllib.parse.urlencode({"login": LOGIN, "password": PASSWORD, **params})
    content_type, raw = fetch(f"{base}/lcabApi/{name}.php?{query}")
    assert content_type.startswith("application/json")
    return json.loads(raw)


def test_legacy_and_xml_calls_over_http(live_server, make_user):
    user = make_user("e2e@example.com")
    services.protocol_credentials_save(
        account=user.account, login=LOGIN, password=PASSWORD
    )
    base = live_server.url

    info = lcab(base, "info")
    assert info["code"] == 1 and info["account"] == 1000.0
    assert info["source"] == ["SMSinfo"] and info["descr"]

    # XML send: the PHP class's body (a bare "&" in the text), its own texts.
    sent = xml_call(
        base,
        "send",
        "<text>Скидки & подарки</text><source>SMSinfo</source><action>send</action>"
        "<smsid>e2e-1</smsid><to number='79161234567'></to>"
        "<to number='79161230000'>Свой текст</to>",
    )
    assert sent.findtext("code") == "1" and sent.findtext("smsid") == "e2e-1"
    assert sent.findtext("colSendAbonent") == "2"
    price = Decimal(sent.findtext("priceOfSending"))
    assert price > 0
    assert Message.objects.get(phone="+79161234567").text == "Скидки & подарки"

    # The same send repeated (a client retrying after a timeout): not sent again.
    again = xml_call(
        base,
        "send",
        "<text>Скидки & подарки</text><source>SMSinfo</source><action>send</action>"
        "<smsid>e2e-1</smsid><to number='79161234567'></to>"
        "<to number='79161230000'>Свой текст</to>",
    )
    assert Decimal(again.findtext("priceOfSending")) == 0
    assert Message.objects.count() == 2

    report = xml_call(base, "report", "<smsid>e2e-1</smsid>", json_answer=True)
    assert report["code"] == "1"
    assert report["detail"]["delivered"]["number"] == "79161234567"
    assert report["detail"]["notDelivered"]["number"] == "79161230000"
    listed = xml_call(
        base, "report", "<start>0000-00-00</start><stop>0000-00-00</stop>"
    )
    assert [s.findtext("smsid") for s in listed.findall("sms")] == ["e2e-1"]

    balance = xml_call(base, "balance", "")
    expected = Account.objects.get(pk=user.account_id).balance
    assert Decimal(balance.findtext("account")) == expected == Decimal("1000") - price

    # lcabApi: sendSms by query string, groups, a send to a group.
    one = lcab(base, "sendSms", to="89031234567", txt="Код 4321", source="SMSinfo")
    assert one["code"] == 1 and one["colSendAbonent"] == 1
    assert Message.objects.get(phone="+79031234567").client_ref == one["smsid"]
    group = Group.objects.create(account=user.account, name="VIP", size=1)
    Contact.objects.create(account=user.account, group=group, phone="+79261234567")
    groups = lcab(base, "getGroups")
    assert groups["code"] == 1 and groups["groups"][0]["name"] == "VIP"
    to_group = lcab(base, "sendSms", idGroup=groups["groups"][0]["id"], txt="Для VIP")
    assert to_group["code"] == 1 and to_group["allRecivers"] == 1
    assert Message.objects.filter(phone="+79261234567").exists()

    # Errors arrive as HTTP 200 with code and descr (urllib would raise on 4xx).
    wrong = lcab(base, "info", password="wrong")
    assert wrong["code"] == 3 and wrong["descr"]
    bad_xml = xml_call(base, "send", "<to number='79161234567'>")
    assert bad_xml.findtext("code") == "400" and bad_xml.findtext("descr")

    # The JSON API's errors too.
    key = token_create(account=user.account, scopes=["messaging"]).key
    _type, raw = fetch(
        f"{base}/json/v1.0/sms/send/text",
        b'{"messages": []}',
        {"Content-Type": "application/json", "X-Token": key},
    )
    answer = json.loads(raw)
    assert answer["success"] is False and answer["error"]["code"] == 400
