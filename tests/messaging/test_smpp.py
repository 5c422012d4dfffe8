"""The SMPP gateway against a real, independent SMPP server (node-smpp's, in
tests/smsc): bind, submit and reports through the engine, long texts as the
counter counts them, throttling, per-message errors, a refused bind, a link
dropped mid-window, malformed reports, incoming messages.  Needs node with
``npm ci`` done in tests/smsc (``.ci/run``)."""

import time
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.db.models import Count
from django.utils import timezone

from billing.models import LedgerEntry, LedgerKind
from cabinet.models import Account
from messaging import handovers, registry, services
from messaging.dispatch import dispatch_channel
from messaging.gateways.base import OutgoingMessage
from messaging.gateways.smpp import GSM7_EXT_CODES, GSM7_TABLE, SmppConfig, split_text
from messaging.models import Handover, IncomingMessage, Message
from messaging.signals import replies_received
from messaging.sms_text import count_sms
from tests import smsc as smsc_lib

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not smsc_lib.available(), reason="needs node and tests/smsc/node_modules"
    ),
]


@pytest.fixture
def smsc():
    server = smsc_lib.Smsc()
    yield server
    server.stop()


@pytest.fixture
def use_smpp(settings):
    """Point the SMS channel at the SMPP gateway with ``url``; stops it after."""

    def use(url, **options):
        settings.MESSAGING_GATEWAYS = {
            **settings.MESSAGING_GATEWAYS,
            "sms": {
                "BACKEND": "messaging.gateways.smpp.SmppGateway",
                "OPTIONS": {"url": url, **options},
            },
        }
        registry.reset_gateways()
        return registry.get_gateway("sms")

    yield use
    gateway = registry._gateways.get("sms")
    if gateway is not None and hasattr(gateway, "stop"):
        gateway.stop()
    registry.reset_gateways()


def wait(predicate, timeout=20, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def dispatch_until(predicate, timeout=30):
    """Dispatch until ``predicate()``; on SQLite a dispatch that meets the
    gateway's report thread writing («database table is locked») is tried
    again."""

    def step():
        try:
            dispatch_channel(channel="sms")
        except OperationalError:
            return False
        return predicate()

    return wait(step, timeout=timeout, step=0.3)


def launch(user, phones, text="Проверка связи", sender="SMSinfo"):
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    from billing.services import account_credit

    account_credit(account_id=account.pk, amount=Decimal("10000"), reason="test")
    return services.campaign_launch(
        account=account, channel="sms", text=text, sender=sender, phones=phones
    )


def statuses(campaign):
    return dict(
        Message.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
    )


def decode(record) -> str:
    """A submit_sm's text as the SMSC logged it (hex of the body)."""
    raw = bytes.fromhex(record["hex"])
    if record["esm"] & 0x40:
        raw = raw[raw[0] + 1 :]
    if record["dc"] == 8:
        return raw.decode("utf-16-be", "surrogatepass")
    ext = {code: ch for ch, code in GSM7_EXT_CODES.items()}
    out, esc = [], False
    for b in raw:
        if esc:
            out.append(ext[b])
            esc = False
        elif b == 0x1B:
            esc = True
        else:
            out.append(GSM7_TABLE[b])
    return "".join(out)


def test_options_come_from_the_url_and_settings():
    conf = SmppConfig.parse(
        "smpp://user%40x:p%3Ass@carrier.example:2776?bind=tx%2Brx&window=10",
        {"binds": 3, "throughput": "100", "mode": "async"},
    )
    assert (conf.system_id, conf.password, conf.host, conf.port) == (
        "user@x",
        "p:ss",
        "carrier.example",
        2776,
    )
    assert (conf.bind, conf.window, conf.binds, conf.throughput) == (
        "tx+rx",
        10,
        3,
        100,
    )
    with pytest.raises(ValueError):
        SmppConfig.parse("http://x")
    with pytest.raises(ValueError):
        SmppConfig.parse("smpp://a:b@h:1?bind=both")


@pytest.mark.parametrize(
    "text",
    [
        "A" * 160,
        "A" * 161,
        "Цена [скидка] {20%} € " * 20,  # GSM-7? no: Cyrillic → UCS-2
        "Price [sale] {20%} €~|^ " * 20,  # GSM-7 with extension pairs
        "Привет 👋" * 30,  # UCS-2 with surrogate pairs
    ],
)
def test_parts_are_split_exactly_as_the_counter_counts(text):
    encoding, parts = split_text(text)
    count = count_sms(text)
    assert (encoding, len(parts)) == (count.encoding, count.parts)
    limit = (
        (160 if count.parts == 1 else 153)
        if encoding == "gsm7"
        else (140 if count.parts == 1 else 134)
    )
    assert all(len(p) <= limit for p in parts)


def test_a_campaign_round_trip_submit_and_reports(user, smsc, use_smpp):
    gateway = use_smpp(smsc.url())
    phones = ["+79030000010", "+79030000011", "+79030000000"]
    campaign = launch(user, phones)
    assert wait(lambda: statuses(campaign) == {"delivered": 2, "undelivered": 1}), (
        statuses(campaign)
    )
    submits = smsc.submits()
    assert sorted(s["dest"] for s in submits) == sorted(p[1:] for p in phones)
    assert {s["src"] for s in submits} == {"SMSinfo"}
    assert {(s["src_ton"], s["src_npi"]) for s in submits} == {(5, 0)}
    by_dest = {s["dest"]: s["id"] for s in submits}
    for m in Message.objects.filter(campaign=campaign):
        assert m.gateway_id == by_dest[m.phone[1:]]
        assert Handover.objects.get(message_id=m.id).state == "accepted"
    assert smsc.stats()["dlr_acked"] == 3
    assert gateway.health()["status"] == "ok"


@pytest.mark.parametrize("mode", ["udh", "payload"])
def test_long_texts_arrive_whole_in_gsm7_and_ucs2(mode, smsc, use_smpp):
    gateway = use_smpp(smsc.url(long_texts=mode))
    texts = {
        "79030000021": "Price [sale] {20%} € and more ~ " * 12,
        "79030000022": "Скидка 20% на всё 👋 до воскресенья! " * 6,
        "79030000023": "short",
    }
    messages = [
        OutgoingMessage(id=900 + i, phone="+" + phone, sender="79001234567", text=text)
        for i, (phone, text) in enumerate(texts.items())
    ]
    results = gateway.submit(messages)
    assert all(r.error is None and r.gateway_id for r in results)
    submits = smsc.submits()
    for phone, text in texts.items():
        mine = [s for s in submits if s["dest"] == phone]
        count = count_sms(text)
        assert mine[0]["dc"] == (0 if count.encoding == "gsm7" else 8)
        if mode == "payload" or count.parts == 1:
            assert len(mine) == 1
            assert mine[0]["payload"] == (count.parts > 1)
        else:
            assert len(mine) == count.parts
            udh = [bytes.fromhex(s["hex"])[:6] for s in mine]
            assert len({u[3] for u in udh}) == 1  # one reference
            assert sorted(u[5] for u in udh) == list(range(1, count.parts + 1))
            assert {u[4] for u in udh} == {count.parts}
            mine.sort(key=lambda s: bytes.fromhex(s["hex"])[5])
        assert "".join(decode(s) for s in mine) == text
    assert {(s["src_ton"], s["src_npi"]) for s in submits} == {(1, 1)}


def test_throttling_slows_down_and_loses_nothing(smsc, use_smpp):
    smsc.command("set", throttle_per_second=100)
    gateway = use_smpp(smsc.url(window=20))
    messages = [
        OutgoingMessage(id=2000 + i, phone=f"+7903100{i:04d}", sender="Shop", text="x")
        for i in range(250)
    ]
    results = gateway.submit(messages)
    assert all(r.error is None for r in results)
    stats = smsc.stats()
    assert stats["throttled"] > 0
    accepted = smsc.accepted_per_destination()
    assert len(accepted) == 250 and set(accepted.values()) == {1}


def test_permanent_errors_fail_and_refund_temporary_ones_are_retried(
    user, smsc, use_smpp
):
    use_smpp(smsc.url())
    campaign = launch(user, ["+79030001111", "+79030002222", "+79030000012"])
    assert wait(
        lambda: (
            statuses(campaign).get("delivered") == 1
            and "sending" not in statuses(campaign)
        )
    ), statuses(campaign)
    failed = Message.objects.get(campaign=campaign, phone="+79030001111")
    assert failed.status == "failed" and failed.refunded
    assert "0x0B" in failed.reason
    retried = Message.objects.get(campaign=campaign, phone="+79030002222")
    assert retried.status == "queued" and retried.attempts == 1
    assert retried.send_at > failed.status_at


def test_a_refused_bind_is_a_clear_status_and_messages_wait(
    user, smsc, use_smpp, client, admin_user
):
    gateway = use_smpp(smsc.url(password="wrong"))
    assert not gateway.available()
    health = gateway.health()
    assert health["status"] == "error" and "0x0E" in health["detail"]
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["sms_gateway"].startswith("error: bind refused")
    assert "0x0E" in body["sms_gateway"]
    # The staff's start page says so too.
    client.force_login(admin_user)
    page = client.get("/admin/").content.decode()
    assert "Связь с операторами" in page and "sms_gateway" in page
    assert "bind refused" in page and "0x0E" in page
    client.logout()
    campaign = launch(user, ["+79030000013", "+79030000014"])
    dispatch_channel(channel="sms")
    assert statuses(campaign) == {"queued": 2}
    assert set(
        Message.objects.filter(campaign=campaign).values_list("attempts", flat=True)
    ) == {0}
    assert smsc.stats()["submits"] == 0
    # The staff console's page: the bind refused in words, the messages waiting.
    client.force_login(admin_user)
    page = client.get("/staff/health/").content.decode()
    assert "Связь с операторами" in page and 'href="/staff/health/"' in page
    assert "привязка отклонена" in page and "неверный пароль (0x0E)" in page
    assert "bind refused: " in page  # the last error as the link said it
    assert "<td data-waiting>2</td>" in page
    client.logout()
    # Customers do not see it.
    client.force_login(user)
    assert client.get("/staff/health/").status_code == 403
    # The carrier takes that password now: the link binds on its own, the
    # waiting messages go, the page says so and keeps the last error.
    smsc.command("set", password="wrong")

    assert dispatch_until(lambda: statuses(campaign) == {"delivered": 2}), statuses(
        campaign
    )
    client.force_login(admin_user)
    page = client.get("/staff/health/").content.decode()
    assert 'data-link-state="bound"' in page and "подключено" in page
    assert "неверный пароль" not in page and "bind refused: " in page
    assert "<td data-waiting>0</td>" in page
    assert client.get("/healthz").json()["sms_gateway"] == "ok"


def test_a_link_dropped_mid_window_sends_nothing_twice(user, smsc, use_smpp):
    use_smpp(smsc.url(window=40), unknown_resolve_seconds=600)
    smsc.command("drop_after", n=25)
    phones = [f"+7903200{i:04d}" for i in range(10, 130)]
    campaign = launch(user, phones)

    def settled():
        dispatch_channel(channel="sms")
        return statuses(campaign) == {"delivered": 120}

    assert wait(settled, timeout=60, step=0.5), statuses(campaign)
    accepted = smsc.accepted_per_destination()
    assert len(accepted) == 120 and set(accepted.values()) == {1}
    unanswered = [s for s in smsc.submits() if s.get("unanswered")]
    assert unanswered, "the link did not drop with submits in flight"
    # Their hand-over was unknown; the carrier's reports settled them.
    for s in unanswered:
        m = Message.objects.get(campaign=campaign, phone="+" + s["dest"])
        assert Handover.objects.get(message_id=m.id).gateway_id == s["id"]


def test_an_unknown_hand_over_without_report_is_queued_again_once(user, settings):
    campaign = launch(user, ["+79030000015"])
    m = Message.objects.get(campaign=campaign)
    Message.objects.filter(pk=m.pk).update(status="sending")
    handovers.begin("sms", [(m.pk, "79030000015", 1)])
    from django.db import transaction
    from django.utils import timezone

    with transaction.atomic():
        handovers.answer([(m.pk, "unknown", "")])
        handovers.mark_unconfirmed("sms", [m.pk], timezone.now())
    m.refresh_from_db()
    assert m.status == "sent" and m.reason == handovers.UNCONFIRMED
    assert handovers.resolve_unknown("sms", older_than=3600) == 0
    assert handovers.resolve_unknown("sms", older_than=0) == 1
    m.refresh_from_db()
    assert m.status == "queued" and m.extra.get("handover_resubmitted") is True
    assert handovers.resolve_unknown("sms", older_than=0) == 0


def test_malformed_reports_are_logged_and_incoming_messages_stored(
    user, smsc, use_smpp, caplog
):
    gateway = use_smpp(smsc.url())
    campaign = launch(user, ["+79030000016"])
    assert wait(lambda: statuses(campaign) == {"delivered": 1})
    heard = []

    def receiver(sender, channel, replies, **kwargs):
        heard.extend(replies)

    replies_received.connect(receiver)
    try:
        smsc.command("raw", short_message="garbage without fields", esm_class=4)
        smsc.command("raw", short_message="id:NOPE stat:DELIVRD err:000", esm_class=4)
        smsc.command(
            "mo", **{"from": "79030000016", "to": "SMSinfo", "text": "Стоп, спасибо"}
        )
        assert wait(lambda: IncomingMessage.objects.exists())
        assert wait(lambda: heard)
    finally:
        replies_received.disconnect(receiver)
    incoming = IncomingMessage.objects.get()
    assert incoming.text == "Стоп, спасибо"
    assert incoming.account_id == user.account_id
    assert incoming.campaign_id == campaign.pk
    assert heard[0]["text"] == "Стоп, спасибо"
    assert "malformed delivery report" in caplog.text
    assert gateway.health()["status"] == "ok"
    assert smsc.stats()["dlr_acked"] >= 3  # every report acknowledged, link alive


def test_transmitter_and_receiver_binds_several_and_enquire_link(smsc, use_smpp):
    gateway = use_smpp(
        smsc.url(bind="tx%2Brx", binds=2, enquire_link_seconds="0.2"), window=5
    )
    assert gateway.available()
    assert sorted(link.mode for link in gateway.links) == [
        "bind_receiver",
        "bind_receiver",
        "bind_transmitter",
        "bind_transmitter",
    ]
    messages = [
        OutgoingMessage(id=3000 + i, phone=f"+7903300{i:04d}", sender="Shop", text="x")
        for i in range(10, 40)
    ]
    results = gateway.submit(messages)
    assert all(r.error is None and r.gateway_id for r in results)
    assert smsc.stats()["binds"] == 4
    # Reports come on the receivers and are acknowledged once applied.
    assert wait(lambda: smsc.stats()["dlr_acked"] == 30)
    # An idle link keeps itself alive.
    assert wait(lambda: smsc.stats()["enquire_links"] >= 4, timeout=5)
    assert gateway.health()["status"] == "ok"


def test_settled_hand_overs_are_purged_and_reports_still_find_their_message(user):
    from datetime import timedelta

    from django.utils import timezone

    campaign = launch(user, ["+79030000017", "+79030000018"])
    first, second = Message.objects.filter(campaign=campaign).order_by("id")
    Message.objects.filter(pk=first.pk).update(gateway_id="C1")
    handovers.begin(
        "sms", [(first.pk, "79030000017", 1), (second.pk, "79030000018", 1)]
    )
    handovers.answer([(first.pk, "accepted", "C1")])
    Handover.objects.update(updated_at=timezone.now() - timedelta(days=8))
    assert handovers.purge() == 1
    assert list(Handover.objects.values_list("message_id", flat=True)) == [second.pk]
    assert handovers.ids_by_gateway("sms", ["C1", "C2"]) == {"C1": first.pk}


LONG_TEXT = "Скидка 20% на всё до воскресенья, приходите! " * 3  # 3 parts (UCS-2)


def parts_per_destination(smsc) -> dict[str, Counter]:
    """(destination → Counter(part number → accepted submit_sm)) and the
    refused ones, as the SMSC logged them."""
    accepted, refused = defaultdict(Counter), defaultdict(Counter)
    for s in smsc.submits():
        (accepted if s["status"] == 0 else refused)[s["dest"]][s.get("part", 1)] += 1
    return accepted, refused


def test_a_part_refused_for_a_while_is_sent_again_alone(user, smsc, use_smpp):
    """A long text whose second part the carrier refuses temporarily: the
    message is retried with that part alone — parts 1 and 3 are never sent
    twice, and the handset gets one of each with one reference."""
    assert count_sms(LONG_TEXT).parts == 3
    smsc.command("set", part_error={"part": 2, "status": 0x14, "times": 1})
    use_smpp(smsc.url())
    phones = ["+79030004441", "+79030004442"]
    campaign = launch(user, phones, text=LONG_TEXT)
    assert wait(lambda: statuses(campaign).get("queued") == 1), statuses(campaign)
    retried = Message.objects.get(campaign=campaign, status="queued")
    assert retried.attempts == 1
    handover = Handover.objects.get(message_id=retried.pk)
    assert handover.state == "rejected" and sorted(handover.parts) == ["0", "2"]
    # Its time to try again comes.
    Message.objects.filter(pk=retried.pk).update(send_at=timezone.now())
    assert dispatch_until(lambda: statuses(campaign) == {"delivered": 2}), statuses(
        campaign
    )
    accepted, refused = parts_per_destination(smsc)
    for phone in phones:
        assert accepted[phone[1:]] == {1: 1, 2: 1, 3: 1}  # 0 lost, 0 twice
    assert refused == {retried.phone[1:]: {2: 1}}
    # The message is known by its first part's id, which the first attempt got.
    first_part = next(
        s["id"]
        for s in smsc.submits()
        if s["dest"] == retried.phone[1:] and s.get("part") == 1
    )
    retried.refresh_from_db()
    assert retried.gateway_id == first_part and retried.attempts == 2
    assert not retried.refunded
    assert smsc.stats()["dlr_acked"] == 6  # every part's report, none unknown


def test_a_part_refused_for_good_fails_the_message_refunded_once(user, smsc, use_smpp):
    smsc.command(
        "set", part_error={"part": 3, "status": 0x0B, "dest": "4443"}
    )  # ESME_RINVDSTADR: permanent
    use_smpp(smsc.url())
    campaign = launch(user, ["+79030004443", "+79030004444"], text=LONG_TEXT)
    assert wait(lambda: statuses(campaign) == {"failed": 1, "delivered": 1}), statuses(
        campaign
    )
    failed = Message.objects.get(campaign=campaign, status="failed")
    assert failed.refunded and "0x0B" in failed.reason
    assert "(часть 3 из 3)" in failed.reason
    assert dispatch_until(lambda: True)  # nothing more to send, nor refunded again
    refunds = LedgerEntry.objects.filter(
        account_id=user.account_id, kind=LedgerKind.REFUND
    )
    assert [e.amount for e in refunds] == [failed.price]
    accepted, refused = parts_per_destination(smsc)
    assert accepted["79030004443"] == {1: 1, 2: 1}
    assert refused == {"79030004443": {3: 1}}
    assert accepted["79030004444"] == {1: 1, 2: 1, 3: 1}
