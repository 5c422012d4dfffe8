"""Manual 4.5: a call's first 20 seconds have their own price, then each
second after them has the line's per-second price (own number vs federal
number), by balance tier.  One rule (``billing.selectors.Rate.cost``) prices
the quote, the hold at launch on the audio's length and the settlement on
the seconds the call really lasted; the hold is never below what is
charged."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.models import Tariff
from billing.selectors import ledger_sum
from cabinet.models import Account
from cabinet.moderation import decide
from messaging import registry
from messaging.gateways.base import Receipt
from messaging.models import Message
from messaging.models import MessageStatus as S
from messaging.statuses import receipts_apply
from voice import services

from .conftest import tone

pytestmark = pytest.mark.django_db

FIRST = Decimal("1.10")  # the first 20 seconds, federal and own (tier 0)
FEDERAL_SECOND = Decimal("0.06")


@pytest.fixture
def long_audio(user, staff, tmp_path):
    """An approved 30-second recording."""
    path = tone(tmp_path / "offer.wav", 30)
    upload = SimpleUploadedFile("offer.wav", path.read_bytes())
    audio = services.audio_upload(account=user.account, upload=upload)
    assert audio.seconds == 30
    return decide(item=audio, approve=True, staff_user=staff).item


@pytest.fixture
def carrier(settings):
    """The fake voice carrier keeping its results until the test applies
    them (``receipts_apply``), so the hold can be seen before settlement."""
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "voice": {
            **settings.MESSAGING_GATEWAYS["voice"],
            "OPTIONS": {
                **settings.MESSAGING_GATEWAYS["voice"]["OPTIONS"],
                "mode": "manual",
            },
        },
    }
    registry.reset_gateways()
    yield registry.get_gateway("voice")
    registry.reset_gateways()


def results(carrier) -> list:
    pending, carrier.pending_receipts = carrier.pending_receipts, []
    return pending


def launch(user, audio, phones, **content):
    return services.voice_launch(
        account=user.account,
        content=services.content_of(audio_id=audio.pk, **content),
        phones=phones,
    )


def test_calls_pay_the_first_20_seconds_then_each_second(user, long_audio, carrier):
    # The fake callee hangs up after «55ss» seconds, listens to the end
    # otherwise; «0000» does not answer.
    lasted = {
        "+79160005501": 1,
        "+79160005520": 20,
        "+79160005521": 21,
        "+79160005525": 25,
        "+79161234567": 30,
        "+79160000000": 0,
    }
    campaign = launch(user, long_audio, list(lasted))
    # Held on the audio's 30 seconds: 1.10 + 10 × 0.06 each.
    hold = FIRST + 10 * FEDERAL_SECOND
    assert campaign.cost == hold * len(lasted)
    assert set(campaign.messages.values_list("price", flat=True)) == {hold}
    receipts_apply(channel="voice", receipts=results(carrier))
    calls = {m.phone: m for m in Message.objects.filter(campaign=campaign)}
    expected = {
        "+79160005501": FIRST,  # 1 s: the first 20 seconds' price
        "+79160005520": FIRST,
        "+79160005521": FIRST + FEDERAL_SECOND,
        "+79160005525": FIRST + 5 * FEDERAL_SECOND,
        "+79161234567": FIRST + 10 * FEDERAL_SECOND,
        "+79160000000": Decimal("0"),  # not answered: free
    }
    for phone, seconds in lasted.items():
        assert calls[phone].extra.get("seconds", 0) == seconds, phone
        assert calls[phone].price == expected[phone], phone
    campaign.refresh_from_db()
    assert campaign.cost == sum(expected.values()) == Decimal("6.46")
    account = Account.objects.get(pk=user.account_id)
    assert account.balance == Decimal("1000") - Decimal("6.46")
    assert account.balance == ledger_sum(account_id=account.pk)


def test_the_estimate_shows_the_first_20_seconds_and_the_hold(client, user, long_audio):
    client.force_login(user)
    resp = client.post(
        "/voice/send/estimate/",
        {
            "audio_id": long_audio.pk,
            "phones": "+79161234567\n+79161234568",
            "send_tz": "Europe/Moscow",
        },
    )
    html = resp.content.decode().replace("&nbsp;", " ")
    assert "3,40 ₽" in html  # (1.10 + 10 × 0.06) × 2 calls
    assert "1,10 ₽ за первые 20 секунд" in html and "0,06 ₽" in html


def test_a_higher_tier_pays_its_own_first_20_seconds(user, long_audio):
    Account.objects.filter(pk=user.account_id).update(tariff_tier=2)
    user.account.refresh_from_db()
    campaign = launch(user, long_audio, ["+79160005505"])
    # Tier 2 (federal): 0.80 for the first 20 seconds, 0.04 a second after.
    assert campaign.cost == Decimal("0.80") + 10 * Decimal("0.04")
    assert campaign.messages.get().price == Decimal("0.80")


def test_a_call_longer_than_held_is_charged_the_hold_once(user, long_audio, carrier):
    campaign = launch(user, long_audio, ["+79161234567"])
    message = campaign.messages.get()
    hold = message.price
    assert message.status == S.SENT and results(carrier)
    # A carrier reporting more seconds than the audio lasted: the user is
    # never charged more than was shown and held.
    receipts_apply(
        channel="voice",
        receipts=[Receipt(S.SUCCESS, message_id=message.pk, units=500)],
    )
    # A repeated report with other seconds settles nothing again.
    receipts_apply(
        channel="voice",
        receipts=[Receipt(S.SUCCESS, message_id=message.pk, units=3)],
    )
    message.refresh_from_db()
    assert message.price == hold and message.extra["billed_units"] == 500
    campaign.refresh_from_db()
    assert campaign.cost == hold
    account = Account.objects.get(pk=user.account_id)
    assert (
        account.balance == Decimal("1000") - hold == ledger_sum(account_id=account.pk)
    )


def test_settlement_prices_seconds_at_the_tier_of_the_launch(user, long_audio, carrier):
    Account.objects.filter(pk=user.account_id).update(tariff_tier=2)
    user.account.refresh_from_db()
    campaign = launch(user, long_audio, ["+79160005525"])
    assert campaign.cost == Decimal("1.20")  # tier 2: 0.80 + 10 × 0.04
    # The account's tier changes before the call ends (tier 0: 1.10, 0.06).
    Account.objects.filter(pk=user.account_id).update(tariff_tier=None)
    receipts_apply(channel="voice", receipts=results(carrier))
    message = campaign.messages.get()
    assert message.extra["seconds"] == 25
    assert message.price == Decimal("0.80") + 5 * Decimal("0.04")


def test_a_price_raised_after_launch_never_charges_more_than_held(
    user, long_audio, carrier
):
    campaign = launch(user, long_audio, ["+79160005525"])
    Tariff.objects.filter(channel="voice", variant="federal", tier=0).update(
        first_price=Decimal("5.00")
    )
    receipts_apply(channel="voice", receipts=results(carrier))
    message = campaign.messages.get()
    assert message.extra["seconds"] == 25
    # 5.00 + 5 × 0.06 now — above the 1.70 held: the hold is the most.
    assert message.price == FIRST + 10 * FEDERAL_SECOND == campaign.cost
