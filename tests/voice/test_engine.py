"""Voice campaigns on the one pipeline with the fake carrier: statuses, seconds
and listening share per call, the price settled on the real seconds, redials
persisted on the message, the menu's unsubscribe digit, moderation of audio."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.selectors import ledger_sum
from cabinet.models import Account
from cabinet.moderation import decide
from contacts.models import Unsubscribe
from messaging.dispatch import dispatch_batch
from messaging.models import Campaign, GatewaySubmission, Message
from messaging.models import MessageStatus as S
from voice import selectors, services
from voice.channels import FEDERAL

pytestmark = pytest.mark.django_db


def launch(user, audio, phones, **content):
    return services.voice_launch(
        account=user.account,
        content=services.content_of(audio_id=audio.pk, **content),
        phones=phones,
    )


def by_phone(campaign):
    return {m.phone: m for m in Message.objects.filter(campaign=campaign)}


def test_calls_end_in_their_statuses_with_seconds_and_listening(user, approved):
    seconds = approved.seconds
    campaign = launch(
        user,
        approved,
        ["+79161234567", "+79160003339", "+79160005505", "+79160000000"],
        ivr={"9": {"action": "unsubscribe"}, "1": {"action": "repeat"}},
    )
    assert campaign.status == Campaign.Status.RUNNING
    assert campaign.sender == FEDERAL
    held = campaign.cost
    # Held: the whole audio twice (a digit repeats it), each call — shorter
    # than 20 s, so the price of the first 20 seconds (manual 4.5: 1.10).
    assert seconds * 2 <= 20
    assert held == Decimal("1.10") * 4
    dispatch_batch(channel="voice")
    calls = by_phone(campaign)
    full = calls["+79161234567"]
    assert full.status == S.SUCCESS
    assert full.extra["percent"] == 100 and full.extra["seconds"] == seconds
    assert full.extra["caller"] in selectors.federal_numbers()
    assert full.price == Decimal("1.10")
    unsub = calls["+79160003339"]
    assert unsub.status == S.UNSUBSCRIBED and unsub.extra["digit"] == "9"
    assert 0 < unsub.extra["percent"] < 100
    early = calls["+79160005505"]
    assert early.status == S.SUCCESS and early.extra["seconds"] == 5
    assert early.price == Decimal("1.10")  # the first 20 seconds whole
    missed = calls["+79160000000"]
    assert missed.status == S.UNDELIVERED and missed.price == 0
    assert missed.reason == "Абонент не ответил"
    campaign.refresh_from_db()
    assert campaign.cost == sum(m.price for m in calls.values())
    account = Account.objects.get(pk=user.account_id)
    # The calls' real seconds and the synthesis of the text (0.30 ₽).
    assert account.balance == Decimal("1000") - campaign.cost - Decimal("0.30")
    assert account.balance == ledger_sum(account_id=account.pk)
    # The unsubscribe digit unsubscribed the number from this sender.
    assert Unsubscribe.objects.filter(
        account=user.account, phone="+79160003339", channel="voice", sender=FEDERAL
    ).exists()
    again = services.voice_quote(
        account=user.account,
        content=services.content_of(audio_id=approved.pk),
        phones=["+79160003339"],
    )
    assert again.messages == 0 and again.excluded["blocked"] == 1


def test_a_digit_of_the_menu_is_ivr(user, approved):
    campaign = launch(user, approved, ["+79160003331"], ivr={"1": {"action": "repeat"}})
    dispatch_batch(channel="voice")
    call = campaign.messages.get()
    assert call.status == S.IVR and call.extra["digit"] == "1"
    # Repeated: longer than the audio, billed on the real seconds.
    assert call.extra["seconds"] > approved.seconds // 2


def test_redials_are_persisted_on_the_message_and_each_attempt_is_kept(user, approved):
    campaign = launch(
        user, approved, ["+79160000001"], redial_count=2, redial_interval=15
    )
    message = campaign.messages.get()
    dispatch_batch(channel="voice")
    message.refresh_from_db()
    assert message.status == S.DEFERRED
    assert message.send_at > timezone.now() + timedelta(minutes=14)
    assert "перезвон" in message.reason
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    # Nothing is due before the redial time.
    assert dispatch_batch(channel="voice") == 0
    for attempt in (2, 3):
        Message.objects.filter(pk=message.pk).update(send_at=timezone.now())
        assert dispatch_batch(channel="voice") == 1
        message.refresh_from_db()
        assert f"call_{attempt}" in message.extra
    assert message.status == S.UNDELIVERED
    assert message.reason == "Занято"
    assert [message.extra[f"call_{n}"]["result"] for n in (1, 2, 3)] == ["busy"] * 3
    assert GatewaySubmission.objects.filter(message_id=message.pk).count() == 3
    assert message.price == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE and campaign.cost == 0
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("999.70") == ledger_sum(account_id=account.pk)
    assert "попытка 3" in selectors.call_facts(message.extra)


def test_a_campaign_with_audio_not_yet_approved_waits_for_staff(user, speech, staff):
    campaign = launch(user, speech, ["+79161234567"])
    assert campaign.status == Campaign.Status.MODERATION
    assert dispatch_batch(channel="voice") == 0
    decide(item=speech, approve=True, staff_user=staff)
    dispatch_batch(channel="voice")
    assert campaign.messages.get().status == S.SUCCESS
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE


def test_rejected_audio_rejects_the_waiting_campaign_and_refunds_it(
    user, speech, staff
):
    campaign = launch(user, speech, ["+79161234567"])
    decide(
        item=speech, approve=False, reason_text="Реклама без согласия", staff_user=staff
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.REJECTED
    assert campaign.messages.get().status == S.CANCELLED
    account = Account.objects.get(pk=user.account_id)
    # The synthesis was charged at launch; the calls came back.
    assert account.balance == Decimal("999.70") == ledger_sum(account_id=account.pk)
    with pytest.raises(services.LaunchError) as bad:
        launch(user, speech, ["+79161234567"])
    assert "отклонена" in bad.value.message


def test_speech_is_charged_once_per_text(user, approved):
    price = selectors.tts_price(account=user.account, audio=approved)
    # 70-odd characters: one hundred, at the tariff's 0.30 ₽.
    assert price == Decimal("0.30")
    first = launch(user, approved, ["+79161234567"])
    assert selectors.tts_price(account=user.account, audio=approved) == 0
    second = launch(user, approved, ["+79161234568"])
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") - first.cost - second.cost - price


def test_report_facts_and_breakdown_by_duration(user, approved):
    campaign = launch(user, approved, ["+79161234567", "+79160005505", "+79160000000"])
    dispatch_batch(channel="voice")
    campaign.refresh_from_db()
    facts = selectors.campaign_facts(campaign)
    assert facts[0][0] == "Средний процент прослушивания звонка"
    avg = selectors.average_listening(campaign.pk)
    five = round(5 * 100 / approved.seconds)
    assert avg == round((100 + five) / 2)
    rows = {
        label: (n, cost) for label, n, cost in selectors.duration_breakdown(campaign)
    }
    assert rows["До 20 сек"][0] == 2
    assert rows["Без ответа или ещё не звонили"] == (1, Decimal("0.00"))


def test_the_menus_url_digit_posts_to_the_client_signed_like_webhooks(
    user, approved, settings
):
    """«Запрос на URL»: the number and the digit reach the client's URL, signed
    with the account's webhook secret."""
    import hashlib
    import hmac
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from integrations.models import WebhookEndpoint

    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOK_ALLOW_PRIVATE = True
    endpoint = WebhookEndpoint.objects.create(
        account=user.account, url="https://hooks.example.com/x"
    )
    url = f"http://127.0.0.1:{server.server_port}/ivr"
    try:
        campaign = launch(
            user, approved, ["+79160003332"], ivr={"2": {"action": "url", "url": url}}
        )
        dispatch_batch(channel="voice")
    finally:
        server.shutdown()
    assert campaign.messages.get().status == S.IVR
    headers, body = got[0]
    data = json.loads(body)
    assert (data["phone"], data["digit"], data["event"]) == (
        "+79160003332",
        "2",
        "voice.ivr",
    )
    expected = hmac.new(
        endpoint.secret.encode(),
        headers["X-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Signature"] == expected


def test_a_campaign_launched_through_rest_pays_the_speech_once(
    api_client_for, user, approved
):
    """The synthesis is charged by the core with the hold, whichever way the
    campaign is launched: the REST API's generic campaigns endpoint too."""
    from billing.models import LedgerEntry

    price = selectors.tts_price(account=user.account, audio=approved)
    assert price > 0
    api = api_client_for(user)
    body = {
        "channel": "voice",
        "phones": ["+79161234567"],
        "content": {"audio_id": approved.pk},
    }
    first = api.post("/api/v1/campaigns/", body, format="json")
    assert first.status_code == 201, first.json()
    second = api.post("/api/v1/campaigns/", body, format="json")
    assert second.status_code == 201, second.json()
    speech = LedgerEntry.objects.filter(
        account_id=user.account_id, reference=selectors.tts_reference(approved)
    )
    assert [e.amount for e in speech] == [-price]
    assert str(first.json()["id"]) in speech.get().reason
    cost = sum(Campaign.objects.get(pk=r.json()["id"]).cost for r in (first, second))
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") - cost - price
    assert account.balance == ledger_sum(account_id=account.pk)
