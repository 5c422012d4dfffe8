"""Own caller numbers («Номера отправителя», manual 4.4–4.5): a client asks
to call from its own number, staff approve it through the one moderation
decision (like sender names), then it is choosable as «От:» on the send page
and in REST, and its calls are priced by the «own» tariff line.  Pending,
rejected and other accounts' numbers are refused."""

from decimal import Decimal

import pytest

from cabinet.models import Notification
from cabinet.moderation import decide, queue_for
from messaging.models import Campaign, GatewaySubmission, Message, SenderName
from messaging.models import MessageStatus as S
from voice import services

pytestmark = pytest.mark.django_db

OWN = "+74951112233"


@pytest.fixture
def page(client, user):
    client.force_login(user)
    return client


def request_number(page, number):
    return page.post("/voice/numbers/", {"number": number})


@pytest.fixture
def own_number(page, user, staff):
    resp = request_number(page, "8 (495) 111-22-33")
    assert resp.status_code == 302
    row = SenderName.objects.get(account=user.account, channel="voice")
    return decide(item=row, approve=True, staff_user=staff).item


SEND = {
    "phones": "+79161234567",
    "send_tz": "Europe/Moscow",
    "smooth_portions": "4",
    "smooth_interval": "30",
    "window_from": "09:00",
    "window_to": "21:00",
}


def test_a_number_is_requested_validated_and_waits_for_staff(page, user):
    resp = request_number(page, "8 (495) 111-22-33")
    assert resp.status_code == 302
    row = SenderName.objects.get(account=user.account, channel="voice")
    assert row.name == OWN and row.status == SenderName.Status.PENDING
    # Staff decide it in the sender names' queue (one moderation model).
    assert queue_for(SenderName).pending().filter(pk=row.pk).exists()
    html = page.get("/voice/numbers/").content.decode()
    assert OWN in html and "На рассмотрении" in html
    # Not choosable while pending.
    send = page.get("/voice/send/").content.decode()
    assert f'value="{OWN}"' not in send


@pytest.mark.parametrize(
    "number, error",
    [
        ("", "Обязательное поле"),
        ("12345", "Неверный номер"),
        ("+380441234567", "российского номера"),
    ],
)
def test_bad_numbers_are_refused_in_russian(page, user, number, error):
    resp = request_number(page, number)
    assert resp.status_code == 200
    assert error in resp.content.decode()
    assert not SenderName.objects.filter(channel="voice").exists()


def test_a_pool_number_and_a_duplicate_are_refused(page, user, other_user):
    from voice.models import VoiceNumber

    pool = VoiceNumber.objects.filter(purpose="voice").first().number
    resp = request_number(page, pool)
    assert "из наших номеров" in resp.content.decode()
    assert request_number(page, OWN).status_code == 302
    resp = request_number(page, "84951112233")
    assert "уже запрошен или одобрен" in resp.content.decode()
    assert SenderName.objects.filter(channel="voice").count() == 1
    # Another client cannot take a number already approved for this one.
    decide(item=SenderName.objects.get(channel="voice"), approve=True)
    with pytest.raises(Exception, match="другого клиента"):
        services.caller_number_request(account=other_user.account, number=OWN)


def test_decision_notifies_in_the_numbers_words(page, user, staff):
    request_number(page, OWN)
    row = SenderName.objects.get(channel="voice")
    decide(
        item=row,
        approve=False,
        reason="other",
        reason_text="Номер не принадлежит клиенту",
        staff_user=staff,
    )
    note = Notification.objects.get(account=user.account)
    assert note.title == f"Номер отправителя {OWN} отклонён"
    assert "не принадлежит" in note.body and note.url == "/voice/numbers/"
    html = page.get("/voice/numbers/").content.decode()
    assert "Отклонено" in html and "не принадлежит" in html


def test_an_approved_number_calls_at_the_own_price(page, user, approved, own_number):
    send = page.get("/voice/send/").content.decode()
    assert f'value="{OWN}"' in send
    # The estimate at the own line: 1.10 for the first 20 seconds, 0.09 after.
    estimate = page.post(
        "/voice/send/estimate/", {**SEND, "audio_id": approved.pk, "caller": OWN}
    ).content.decode()
    assert "0,09" in estimate.replace("&nbsp;", " ")
    resp = page.post("/voice/send/", {**SEND, "audio_id": approved.pk, "caller": OWN})
    assert resp.status_code == 302, resp.content.decode()[:3000]
    campaign = Campaign.objects.get(channel="voice")
    assert campaign.sender == OWN
    call = Message.objects.get(campaign=campaign)
    assert call.status == S.SUCCESS
    assert call.extra["caller"] == OWN  # the call came from the client's number
    assert GatewaySubmission.objects.get(message_id=call.pk).sender == OWN
    assert call.price == Decimal("1.10")
    # A call of the same audio from the federal pool costs the same first 20
    # seconds; the own line differs after them (0.09 vs 0.06 a second).
    long = services.voice_quote(
        account=user.account,
        content=services.content_of(audio_id=approved.pk),
        caller=OWN,
        phones=["+79161234567"],
    )
    assert long.rate.price == Decimal("0.09") and long.rate.first_price == Decimal(
        "1.10"
    )
    federal = services.voice_quote(
        account=user.account,
        content=services.content_of(audio_id=approved.pk),
        phones=["+79161234567"],
    )
    assert federal.rate.price == Decimal("0.06")


def test_pending_rejected_and_foreign_numbers_are_refused_server_side(
    page, user, other_user, approved, staff
):
    # A number of another account, approved there.
    theirs = services.caller_number_request(account=other_user.account, number=OWN)
    decide(item=theirs, approve=True, staff_user=staff)
    resp = page.post("/voice/send/", {**SEND, "audio_id": approved.pk, "caller": OWN})
    assert resp.status_code == 200
    assert "не подтверждён для вашего аккаунта" in resp.content.decode()
    # Past the form: the service and the core refuse it too.
    with pytest.raises(Exception, match="не подтверждён"):
        services.voice_launch(
            account=user.account,
            content=services.content_of(audio_id=approved.pk),
            caller=OWN,
            phones=["+79161234567"],
        )
    mine = services.caller_number_request(account=user.account, number="+74957654321")
    with pytest.raises(Exception, match="на модерации"):
        services.voice_launch(
            account=user.account,
            content=services.content_of(audio_id=approved.pk),
            caller=mine.name,
            phones=["+79161234567"],
        )
    decide(item=mine, approve=False, reason_text="Чужой номер", staff_user=staff)
    with pytest.raises(Exception, match="не подтверждён"):
        services.voice_launch(
            account=user.account,
            content=services.content_of(audio_id=approved.pk),
            caller=mine.name,
            phones=["+79161234567"],
        )
    assert not Campaign.objects.filter(channel="voice").exists()


def test_rest_takes_an_approved_number_and_refuses_others(
    api_client_for, user, other_user, approved, own_number, staff
):
    api = api_client_for(user)
    body = {
        "channel": "voice",
        "sender": OWN,
        "phones": ["+79161234567"],
        "content": {"audio_id": approved.pk},
    }
    made = api.post("/api/v1/campaigns/", body, format="json")
    assert made.status_code == 201, made.json()
    campaign = Campaign.objects.get(pk=made.json()["id"])
    assert campaign.sender == OWN
    assert campaign.messages.get().extra["caller"] == OWN
    # Another account's approved number is not this account's sender.
    theirs = services.caller_number_request(
        account=other_user.account, number="+74957654321"
    )
    decide(item=theirs, approve=True, staff_user=staff)
    refused = api.post(
        "/api/v1/campaigns/", {**body, "sender": "+74957654321"}, format="json"
    )
    assert refused.status_code == 400
    assert Campaign.objects.filter(channel="voice").count() == 1


def test_withdrawing_another_accounts_number_is_not_found(
    page, user, other_user, staff
):
    theirs = services.caller_number_request(account=other_user.account, number=OWN)
    resp = page.post(f"/voice/numbers/{theirs.pk}/withdraw/")
    assert resp.status_code == 404
    assert SenderName.objects.filter(pk=theirs.pk).exists()
    mine = services.caller_number_request(account=user.account, number="+74957654321")
    assert page.post(f"/voice/numbers/{mine.pk}/withdraw/").status_code == 302
    assert not SenderName.objects.filter(pk=mine.pk).exists()
    # An SMS sender name is not a voice number.
    sms = SenderName.objects.create(account=user.account, channel="sms", name="Shop")
    assert page.post(f"/voice/numbers/{sms.pk}/withdraw/").status_code == 404
