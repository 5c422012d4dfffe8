"""The fast lane of ``POST /json/v1.0/sms/send/text`` (integrations/fastlane.py,
messaging/instant.py): one-message sends written in one SQL statement in front
of Django.  The lane must answer exactly as Django does and write exactly the
rows ``campaign_launch`` writes; everything it cannot decide goes to Django."""

import io
import json
import threading
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from billing.models import LedgerEntry, Tariff
from billing.selectors import PriceList
from cabinet.models import Account, ApiToken, Notification
from cabinet.services import token_create, token_revoke
from contacts.models import StopNumber, Unsubscribe
from integrations.fastlane import TOKENS, FastLane
from messaging import instant, prepare
from messaging.models import Campaign, CampaignCounter, Message, SenderName
from tests.properties import repeatable

pytestmark = pytest.mark.django_db

POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the fast lane is PostgreSQL-only (SQLite always goes to Django)",
)


@pytest.fixture(autouse=True)
def _lane(monkeypatch):
    """Dispatch enqueues are recorded, not run (so both paths answer the status
    at write time, as with a real broker), and the nudge has no timers."""
    enqueued = []
    monkeypatch.setattr(prepare, "enqueue_dispatch", enqueued.append)
    nudge = prepare.DispatchNudge(0)
    monkeypatch.setattr(prepare, "nudge_dispatch", nudge)
    TOKENS._known.clear()
    # As Django's test client does: the test's connection must survive the
    # request signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield enqueued
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class Spy:
    """Django behind the lane, counting the requests handed to it."""

    def __init__(self):
        self.calls = 0
        self.django = WSGIHandler()

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


def call(app, key, payload, *, raw=None, ip="127.0.0.1", path=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path or "/json/v1.0/sms/send/text",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": ip,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_TOKEN": key,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(headers)

    chunks = app(environ, start_response)
    data = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return started["status"], started["headers"], json.loads(data)


def one(recipient="79161234567", id="m-1", text="Ваш код 1234", **extra):
    return {"messages": [{"recipient": recipient, "id": id, "text": text, **extra}]}


@pytest.fixture
def key(user):
    return token_create(account=user.account, scopes=["messaging"]).key


def _strip(result: dict) -> dict:
    out = json.loads(json.dumps(result))
    for message in out["result"]["messages"]:
        for field in ("smscId", "campaignId", "id"):
            message.pop(field, None)
    return out


CAMPAIGN_FIELDS = (
    "channel source status sender text content tags description created_by_id "
    "send_at finished_at client_id recipients prepared cost moderation_note"
).split()
MESSAGE_FIELDS = (
    "channel phone sender text parts price status reason operator country region "
    "timezone contact_id sent_at status_at gateway_id attempts refunded"
).split()


def _rows(client_ref: str) -> dict:
    message = Message.objects.get(client_ref=client_ref)
    campaign = Campaign.objects.get(pk=message.campaign_id)
    entries = list(
        LedgerEntry.objects.filter(reference=f"campaign:{campaign.pk}").values(
            "amount", "kind", "reason", "service", "created_by_id"
        )
    )
    for entry in entries:
        entry["reason"] = entry["reason"].replace(f"#{campaign.pk}", "#N")
    audience = json.loads(json.dumps(campaign.audience))
    for recipient in audience["recipients"]:
        recipient["client_ref"] = "*"
        recipient["client_key"] = "*" if recipient["client_key"] else ""
    return {
        "campaign": {f: getattr(campaign, f) for f in CAMPAIGN_FIELDS},
        "options": campaign.options,
        "audience": audience,
        "message": {f: getattr(message, f) for f in MESSAGE_FIELDS},
        "send_at_is_created_at": message.send_at == message.created_at,
        "lifetime": message.expires_at and message.expires_at - message.send_at,
        "started_at_is_created_at": campaign.started_at == campaign.created_at,
        "counters": {
            c.status: c.count
            for c in CampaignCounter.objects.filter(campaign=campaign, count__gt=0)
        },
        "ledger": entries,
    }


def balance(account_id) -> Decimal:
    return Account.objects.get(pk=account_id).balance


def assert_ledger_matches(account_id):
    total = sum(
        (e.amount for e in LedgerEntry.objects.filter(account_id=account_id)),
        Decimal("0"),
    )
    assert balance(account_id) == total


def forbidden(environ, start_response):
    raise AssertionError("the lane handed a request it should serve to Django")


@POSTGRES_ONLY
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"timeout": 3600},
        {"text": "Длинный текст " * 20},
        {"recipient": "8 (903) 123-45-67"},
        {"recipient": "+375291234567"},
    ],
    ids=["plain", "ttl", "long", "notation", "foreign"],
)
def test_the_lane_writes_what_django_writes(user, key, compat_for, extra):
    before = balance(user.account_id)
    payload = one(id="fast-1", **extra)
    status, headers, fast = call(FastLane(forbidden), key, payload)
    assert status == 200
    spent_fast = before - balance(user.account_id)

    django_payload = one(id="slow-1", **extra)
    slow = compat_for(user).send(django_payload)
    assert slow.status_code == 200
    spent_slow = before - spent_fast - balance(user.account_id)

    assert _strip(fast) == _strip(slow.json())
    assert fast["result"]["messages"][0]["id"] == "fast-1"
    assert spent_fast == spent_slow > 0
    assert _rows("fast-1") == _rows("slow-1")
    assert_ledger_matches(user.account_id)
    # The same headers as Django's answer (length aside).
    assert set(headers) - {"Content-Length"} == set(slow.headers) - {"Content-Length"}


@POSTGRES_ONLY
def test_tags_sender_and_tariff_tier_are_those_of_django(user, key, compat_for):
    SenderName.objects.create(account=user.account, name="SHOP", status="approved")
    Account.objects.filter(pk=user.account_id).update(tariff_tier=3)
    Tariff.objects.update_or_create(
        channel="sms",
        country="RU",
        operator="МегаФон",
        tier=3,
        defaults={"price": Decimal("1.23")},
    )
    payload = one("79261234567", id="t-fast", source="SHOP")
    payload["tags"] = ["codes", "июль"]
    _status, _headers, fast = call(FastLane(forbidden), key, payload)
    payload = one("79261234567", id="t-slow", source="SHOP")
    payload["tags"] = ["codes", "июль"]
    slow = compat_for(user).send(payload)
    assert _strip(fast) == _strip(slow.json())
    assert _rows("t-fast") == _rows("t-slow")
    message = Message.objects.get(client_ref="t-fast")
    account = Account.objects.get(pk=user.account_id)
    assert message.sender == "SHOP"
    assert message.price == PriceList(account=account, channel="sms").price(
        message.country, message.operator
    )


@POSTGRES_ONLY
def test_a_repeated_id_is_answered_not_sent_again(user, key, compat_for):
    app = FastLane(forbidden)
    _s, _h, first = call(app, key, one(id="r-1"))
    spent = balance(user.account_id)
    _s, _h, again = call(app, key, one(id="r-1"))
    assert Message.objects.filter(client_ref="r-1").count() == 1
    assert balance(user.account_id) == spent
    assert again["result"]["messages"][0]["repeated"] is True
    assert again["result"]["price"]["sum"] == 0
    first_message = first["result"]["messages"][0]
    assert again["result"]["messages"][0]["smscId"] == first_message["smscId"]
    # Django answers the same repeat identically.
    slow = compat_for(user).send(one(id="r-1"))
    assert slow.json() == again


@POSTGRES_ONLY
def test_a_reused_id_with_another_text_or_number_is_sent_by_the_lane(
    user, key, compat_for
):
    """Clients copy ``"id": "string"`` from the example: only a true replay
    (same id, number and text) is answered without sending — in the lane as in
    Django."""
    app = FastLane(forbidden)
    _s, _h, first = call(app, key, one(id="string", text="Код 1111"))
    _s, _h, other_text = call(app, key, one(id="string", text="Код 2222"))
    _s, _h, other_number = call(app, key, one("79031234567", "string", "Код 1111"))
    answers = [first, other_text, other_number]
    assert all("repeated" not in a["result"]["messages"][0] for a in answers)
    assert len({a["result"]["messages"][0]["smscId"] for a in answers}) == 3
    _s, _h, replay = call(app, key, one(id="string", text="Код 2222"))
    assert replay["result"]["messages"][0]["repeated"] is True
    assert replay == compat_for(user).send(one(id="string", text="Код 2222")).json()
    assert Message.objects.filter(client_ref="string").count() == 3
    assert_ledger_matches(user.account_id)


@POSTGRES_ONLY
def test_a_send_without_an_id_answers_ours_in_the_lane_too(user, key, compat_for):
    _s, _h, fast = call(
        FastLane(forbidden),
        key,
        {"messages": [{"recipient": "79161234567", "text": "Код 1"}]},
    )
    ours = fast["result"]["messages"][0]["id"]
    assert isinstance(ours, str) and ours
    message = Message.objects.get(client_ref=ours)
    assert message.client_key == ""  # our ids are never replayed
    status = compat_for(user).status([ours]).json()["result"][0]
    assert status["smscId"] == message.pk


@POSTGRES_ONLY
def test_the_token_is_marked_used_and_a_charge_crossing_the_threshold_notifies(
    user, key
):
    Account.objects.filter(pk=user.account_id).update(
        low_balance_threshold=balance(user.account_id) - Decimal("0.01")
    )
    call(FastLane(forbidden), key, one(id="n-1"))
    assert ApiToken.objects.get(account=user.account).last_used_at is not None
    assert (
        Notification.objects.filter(account=user.account, kind="balance").count() == 1
    )
    call(FastLane(forbidden), key, one(id="n-2"))
    assert (
        Notification.objects.filter(account=user.account, kind="balance").count() == 1
    )


@POSTGRES_ONLY
def test_a_dispatch_is_enqueued_after_the_send(user, key, _lane):
    call(FastLane(forbidden), key, one(id="d-1"))
    assert _lane == ["sms"]


TOMORROW = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")


def _fallback_cases():
    def stop(user):
        StopNumber.objects.create(account=user.account, phone="+79161234567")

    def unsubscribed(user):
        Unsubscribe.objects.create(
            account=user.account, phone="+79161234567", channel="sms", sender="SMSinfo"
        )

    def poor(user):
        Account.objects.filter(pk=user.account_id).update(balance=0)
        LedgerEntry.objects.filter(account_id=user.account_id).delete()

    def untrusted(user):
        Account.objects.filter(pk=user.account_id).update(is_trusted=False)

    def blocked(user):
        Account.objects.filter(pk=user.account_id).update(is_blocked=True)

    def revoked(user):
        for token in ApiToken.objects.filter(account=user.account):
            token_revoke(token=token)

    return {
        "invalid-phone": (None, one("12"), 200),
        "stop-list": (stop, one(), 200),
        "unsubscribed": (unsubscribed, one(), 200),
        "insufficient-funds": (poor, one(), 200),
        "moderation": (untrusted, one(), 200),
        "blocked-account": (blocked, one(), 200),
        "revoked-token": (revoked, one(), 200),
        "unapproved-sender": (None, one(source="NOTMINE"), 200),
        "risky-text": (None, one(text="Ваша карта заблокирована: bit.ly/x"), 200),
        "validate": (None, {**one(), "validate": True}, 200),
        "two-messages": (None, {"messages": one()["messages"] * 2}, 200),
        "group": (None, one("5", recipientType="group"), 200),
        "scheduled": (None, {**one(), "startDateTime": TOMORROW}, 200),
        "empty-text": (None, one(text=" "), 200),
        "malformed": (None, None, 200),
    }


CASES = _fallback_cases()
SENT_BY_DJANGO = {
    "moderation",
    "risky-text",
    "validate",
    "two-messages",
    "group",
    "scheduled",
    "empty-text",
}


@POSTGRES_ONLY
@pytest.mark.parametrize("case", list(CASES))
def test_what_the_lane_cannot_decide_goes_to_django(user, key, compat_for, case):
    prepare_case, payload, expected = CASES[case]
    # The token is known to the lane before the case changes anything.
    call(FastLane(forbidden), key, one(id="warm", recipient="79035550000"))
    if prepare_case:
        prepare_case(user)
    messages_before = Message.objects.count()
    balance_before = balance(user.account_id)
    spy = Spy()
    raw = b"{not json" if payload is None else None
    status, _headers, body = call(spy.django, key, payload, raw=raw)  # Django's
    status_lane, _h, body_lane = call(FastLane(spy), key, payload, raw=raw)
    assert spy.calls == 1, "the lane answered a request it must hand to Django"
    assert status == status_lane == expected
    if case in SENT_BY_DJANGO:
        # Django really sends these (or validates them): the lane's call is a
        # repeat of the first, so only the shape is compared.
        assert body_lane["success"] == body["success"]
    else:
        assert body_lane == body
        assert Message.objects.count() == messages_before
        assert balance(user.account_id) == balance_before


@POSTGRES_ONLY
def test_scope_and_ip_rules_are_kept(user, compat_for):
    chat = token_create(account=user.account, scopes=["chat"]).key
    spy = Spy()
    status, _h, body = call(FastLane(spy), chat, one(id="s-1"))
    assert spy.calls == 1 and status == 200 and body["error"]["code"] == 403
    walled = token_create(
        account=user.account, scopes=["messaging"], allowed_ips="10.0.0.0/8"
    ).key
    status, _h, body = call(FastLane(spy), walled, one(id="s-2"), ip="192.0.2.1")
    assert spy.calls == 2 and status == 200 and body["error"]["code"] == 401
    status, _h, body = call(FastLane(forbidden), walled, one(id="s-3"), ip="10.1.2.3")
    assert status == 200 and body["result"]["accepted"] == 1
    assert not Message.objects.filter(client_ref__in=["s-1", "s-2"]).exists()


@POSTGRES_ONLY
def test_other_paths_and_methods_are_djangos(user, key):
    spy = Spy()
    call(FastLane(spy), key, ["x"], path="/json/v1.0/sms/status")
    assert spy.calls == 1


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_id_send_once(make_user):
    user = make_user("race@example.com")
    key = token_create(account=user.account, scopes=["messaging"]).key
    barrier = threading.Barrier(4)
    answers = []

    def worker():
        try:
            barrier.wait()
            answers.append(call(FastLane(WSGIHandler()), key, one(id="race")))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4
    assert Message.objects.filter(client_ref="race").count() == 1
    ids = {a[2]["result"]["messages"][0]["smscId"] for a in answers}
    assert len(ids) == 1
    assert sum(1 for a in answers if a[2]["result"]["messages"][0].get("repeated")) == 3
    assert_ledger_matches(user.account_id)


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_id_with_other_texts_all_send(make_user):
    user = make_user("reuse@example.com")
    key = token_create(account=user.account, scopes=["messaging"]).key
    barrier = threading.Barrier(4)
    answers = []

    def worker(n):
        try:
            barrier.wait()
            answers.append(
                call(FastLane(WSGIHandler()), key, one(id="17", text=f"Код {n}"))
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4
    assert Message.objects.filter(client_ref="17").count() == 4
    assert not any(a[2]["result"]["messages"][0].get("repeated") for a in answers)
    assert_ledger_matches(user.account_id)


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_never_overdraw(make_user):
    user = make_user("edge@example.com", balance=Decimal("10"))
    key = token_create(account=user.account, scopes=["messaging"]).key
    answers = []
    barrier = threading.Barrier(6)

    def worker(n):
        try:
            barrier.wait()
            for i in range(3):
                answers.append(
                    call(FastLane(WSGIHandler()), key, one(id=f"e-{n}-{i}"))[2]
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = Message.objects.filter(account_id=user.account_id).count()
    ok = sum(1 for a in answers if a["result"]["messages"][0]["success"])
    assert ok == sent and 0 < sent < 18
    assert balance(user.account_id) >= 0
    assert_ledger_matches(user.account_id)


def test_sqlite_or_a_switched_off_lane_always_goes_to_django(user, key, settings):
    settings.COMPAT_FAST_LANE = False
    spy = Spy()
    status, _h, body = call(FastLane(spy), key, one(id=uuid.uuid4().hex[:8]))
    assert spy.calls == 1 and status == 200 and body["result"]["accepted"] == 1


@POSTGRES_ONLY
def test_a_failed_statement_is_a_clear_500_never_a_second_try(user, key, monkeypatch):
    from django.db import DatabaseError

    def broken(params):
        raise DatabaseError("server closed the connection unexpectedly")

    call(FastLane(forbidden), key, one(id="warm"))
    monkeypatch.setattr(instant, "_execute", broken)
    before = Message.objects.count(), balance(user.account_id)
    status, _h, body = call(FastLane(forbidden), key, one(id="lost"))
    assert status == 500
    assert body["success"] is False and body["error"]["code"] == 500
    assert "Traceback" not in json.dumps(body, ensure_ascii=False)
    assert (Message.objects.count(), balance(user.account_id)) == before


TEXTS = st.one_of(
    st.sampled_from(
        [
            "Ваш код 1234",
            "Your code is 1234",
            "Скидка 20% {до} воскресенья € ^ ~ [x]",
            "Привет 😀",
            "A" * 161,
            "Б" * 71,
            "   ",
            "",
            "Выиграйте приз! Перейдите по ссылке",
            "Ваш промокод [couponCode]",
        ]
    ),
    st.text(
        alphabet=st.sampled_from(list("abcXYZ019 абвЖЁ.,!?{}[]~^€\n😀")),
        min_size=1,
        max_size=400,
    ),
)
RECIPIENTS = st.sampled_from(
    [
        "79161234567",
        "+7 916 123-45-67",
        "8 (903) 123-45-67",
        "+375291234567",
        "79261234568",
        "12345",
        "",
        "7916123456789012",
    ]
)
EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "timeout": st.one_of(st.integers(-5, 200_000), st.just("60")),
        "source": st.sampled_from(["SMSinfo", "SHOP", "NOPE", ""]),
        "channel": st.sampled_from(["char", "viber", "sms"]),
    },
)
TAGS = st.one_of(st.none(), st.lists(st.text("абвxyz", max_size=8), max_size=3))


@POSTGRES_ONLY
def test_any_one_message_request_is_answered_and_written_as_django_does(
    user, key, compat_for
):
    """Property: for generated one-message requests (texts of every alphabet
    and length, valid and junk numbers, TTLs, senders, channels, tags) the lane
    — whether it serves the request or hands it over — answers what Django
    answers and writes the same rows."""
    from billing.services import account_credit

    # Far above the top tier's threshold, so that no send moves the account to
    # another price tier between its two requests.
    account_credit(
        account_id=user.account_id, amount=Decimal("1000000"), reason="пополнение"
    )
    SenderName.objects.create(account=user.account, name="SHOP", status="approved")
    django = compat_for(user)
    counter = iter(range(10**6))

    @repeatable(40, "FASTLANE_EXAMPLES")
    @given(text=TEXTS, recipient=RECIPIENTS, extra=EXTRAS, tags=TAGS)
    def same_as_django(text, recipient, extra, tags):
        # Django's test client reconnects these after each of its requests.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        n = next(counter)
        payloads = []
        for ref in (f"p-fast-{n}", f"p-slow-{n}"):
            payload = one(recipient, id=ref, text=text, **extra)
            if tags is not None:
                payload["tags"] = tags
            payloads.append(payload)
        before = balance(user.account_id)
        spy = Spy()
        status, _headers, fast = call(FastLane(spy), key, payloads[0])
        paths["django" if spy.calls else "lane"] += 1
        spent_fast = before - balance(user.account_id)
        slow = django.send(payloads[1])
        spent_slow = before - spent_fast - balance(user.account_id)
        assert status == slow.status_code
        assert _strip(fast) == _strip(slow.json())
        assert spent_fast == spent_slow
        sent = Message.objects.filter(client_ref=f"p-fast-{n}").exists()
        assert sent == Message.objects.filter(client_ref=f"p-slow-{n}").exists()
        if sent:
            assert _rows(f"p-fast-{n}") == _rows(f"p-slow-{n}")

    paths = {"lane": 0, "django": 0}
    same_as_django()
    assert_ledger_matches(user.account_id)
    # Both ways were walked: requests the lane served and requests it handed over.
    assert paths["lane"] >= 5 and paths["django"] >= 5, paths


@POSTGRES_ONLY
def test_a_fast_lane_charge_fires_the_ledger_side_effects_of_a_form_charge(
    user, key, client_for
):
    """Anything hooked to a charge (low-balance events, partner rewards) sees
    the one-statement charge exactly as a charge through the cabinet form:
    one ``ledger_posted`` per entry, with the entry as it is in the table."""
    from billing.signals import ledger_posted

    seen = []

    def receiver(sender, entry, balance_before, **kwargs):
        seen.append((entry, balance_before))

    ledger_posted.connect(receiver)
    try:
        spy = Spy()
        status, _h, body = call(FastLane(spy), key, one())
        assert status == 200 and body["success"] and spy.calls == 0
        response = client_for(user).post(
            reverse("messaging:sms_send"), {"phone": "+79161234568", "text": "Привет"}
        )
        assert response.status_code == 302
    finally:
        ledger_posted.disconnect(receiver)
    charges = list(
        LedgerEntry.objects.filter(account_id=user.account_id, kind="charge").order_by(
            "id"
        )
    )
    assert len(charges) == 2, "the form send must have charged too"
    assert [e.pk for e, _b in seen] == [c.pk for c in charges]
    for (announced, before), stored in zip(seen, charges, strict=True):
        for field in ("account_id", "amount", "kind", "reason", "reference"):
            assert getattr(announced, field) == getattr(stored, field)
        assert announced.service == stored.service == "sms"
        assert announced.balance_after == stored.balance_after
        assert before == stored.balance_after - stored.amount


@POSTGRES_ONLY
def test_a_fast_lane_charge_crossing_the_threshold_notifies_once(user, key):
    Account.objects.filter(pk=user.account_id).update(
        low_balance_threshold=Decimal("999.00")
    )
    call(FastLane(Spy()), key, one(id="x-1"))
    call(FastLane(Spy()), key, one(id="x-2", recipient="79161234569"))
    assert (
        Notification.objects.filter(account_id=user.account_id, kind="balance").count()
        == 1
    )
