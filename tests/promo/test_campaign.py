"""Sending by promo action id (the manual's discountID): the SMS engine
substitutes [couponCode] through PromoCodeIssuer."""

import re

import pytest

from messaging.models import Message
from messaging.services import LaunchError, campaign_launch
from promo.models import PromoCode
from promo.selectors import action_stats

pytestmark = pytest.mark.django_db

PHONES = ["+79161234501", "+79161234502", "+79161234503", "+79161230000"]


def test_each_recipient_gets_a_distinct_code_stored_against_its_message(user, action):
    campaign = campaign_launch(
        account=user.account,
        channel="sms",
        text="Ваш промокод: [couponCode]",
        phones=PHONES,
        options={"promo_action": action.pk},
    )
    messages = list(Message.objects.filter(campaign=campaign))
    assert len(messages) == 4
    codes = {c.message_id: c for c in PromoCode.objects.filter(campaign_id=campaign.pk)}
    assert len(codes) == 4
    seen = set()
    for m in messages:
        code = codes[m.pk]
        assert m.text == f"Ваш промокод: {code.code}"
        assert code.phone == m.phone and code.action_id == action.pk
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{6}", code.code)
        seen.add(code.code)
    assert len(seen) == 4
    # The fake gateway delivers all but the number ending 0000.
    stats = action_stats(account_id=user.account_id)[action.pk]
    assert (stats.sent, stats.delivered, stats.redeemed) == (4, 3, 0)


def test_a_foreign_promo_action_is_refused(user, other_user, make_action):
    foreign = make_action(other_user.account)
    with pytest.raises(LaunchError) as exc:
        campaign_launch(
            account=user.account,
            channel="sms",
            text="Код [couponCode]",
            phones=PHONES[:1],
            options={"promo_action": foreign.pk},
        )
    assert exc.value.code == "not_found"
    assert not PromoCode.objects.exists()
    assert not Message.objects.filter(account_id=user.account_id).exists()


def test_the_api_sends_by_promo_action_id(user, action, api_client_for):
    api = api_client_for(user)
    response = api.post(
        "/api/v1/campaigns/",
        {
            "channel": "sms",
            "text": "Скидка по коду [couponCode]",
            "phones": PHONES[:2],
            "promo_action": action.pk,
        },
        format="json",
    )
    assert response.status_code in (200, 201), response.json()
    foreign = api.post(
        "/api/v1/campaigns/",
        {
            "channel": "sms",
            "text": "[couponCode]",
            "phones": PHONES[:1],
            "promo_action": 999999,
        },
        format="json",
    )
    assert foreign.status_code in (400, 404), foreign.content
    assert foreign.json()["error"]["code"] == "not_found"
    texts = list(
        Message.objects.filter(account_id=user.account_id).values_list(
            "text", flat=True
        )
    )
    stored = set(PromoCode.objects.values_list("code", flat=True))
    assert len(texts) == 2 and {t.rsplit(" ", 1)[1] for t in texts} == stored


def test_a_code_length_too_short_for_the_audience_is_refused_at_launch(
    user, make_action, issue_codes
):
    tiny = make_action(user.account, code_length=4)
    issue_codes(tiny, 920)  # capacity of length 4 is 923
    phones = [f"+791612345{i:02d}" for i in range(10)]
    with pytest.raises(LaunchError) as exc:
        campaign_launch(
            account=user.account,
            channel="sms",
            text="Код [couponCode]",
            phones=phones,
            options={"promo_action": tiny.pk},
        )
    assert exc.value.code == "promo_code_length"
    assert "не меньше 5" in exc.value.message
    assert not Message.objects.filter(account_id=user.account_id).exists()
    assert PromoCode.objects.count() == 920


def test_a_bigger_campaign_binds_every_code_to_its_message(user, action):
    # 600 recipients: the issuer writes with COPY on PostgreSQL.
    from billing.services import account_credit

    account_credit(account_id=user.account_id, amount=10000, reason="тест")
    phones = [f"+7916{i:07d}" for i in range(1001, 1601)]
    campaign = campaign_launch(
        account=user.account,
        channel="sms",
        text="[couponCode] — ваш код",
        phones=phones,
        options={"promo_action": action.pk},
    )
    pairs = dict(Message.objects.filter(campaign=campaign).values_list("id", "text"))
    codes = dict(
        PromoCode.objects.filter(campaign_id=campaign.pk).values_list(
            "message_id", "code"
        )
    )
    assert len(pairs) == len(codes) == 600
    assert all(pairs[mid] == f"{code} — ваш код" for mid, code in codes.items())
    assert len(set(codes.values())) == 600
