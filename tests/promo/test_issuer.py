import re

import pytest

from promo import codes as codegen
from promo.models import PromoAction, PromoCode
from promo.selectors import action_get, promo_actions
from promo.services import PromoCodeIssuer, PromoError

pytestmark = pytest.mark.django_db

UNAMBIGUOUS = re.compile(r"^[2-9A-HJKMNP-Z]+$")


def test_it_issues_distinct_unambiguous_codes_of_the_action_length(action, issue_codes):
    codes = issue_codes(action, 500)
    assert len(set(codes)) == 500
    assert all(len(c) == action.code_length and UNAMBIGUOUS.match(c) for c in codes)
    stored = dict(PromoCode.objects.filter(action=action).values_list("code", "phone"))
    assert set(stored) == set(codes)
    action.refresh_from_db()
    assert action.first_sent_at is not None


def test_codes_never_repeat_across_issuers_of_one_account(
    user, make_action, issue_codes
):
    short = make_action(user.account, code_length=4)
    first = issue_codes(short, 400)
    second = issue_codes(short, 400, phone_prefix="+7917000")
    assert not set(first) & set(second)
    assert PromoCode.objects.filter(account_id=user.account_id).count() == 800


def test_it_refuses_a_code_length_too_short_for_the_volume(user, make_action):
    tiny = make_action(user.account, code_length=4)
    with pytest.raises(PromoError) as exc:
        PromoCodeIssuer(
            account_id=user.account_id,
            action_id=tiny.pk,
            campaign_id=None,
            expected=5000,
        )
    assert "не меньше 5" in exc.value.message
    issuer = PromoCodeIssuer(
        account_id=user.account_id, action_id=tiny.pk, campaign_id=None
    )
    with pytest.raises(PromoError):
        for i in range(codegen.capacity(4) + 1):
            issuer.issue(phone=f"+7916{i:07d}", message_id=None)


def test_a_clash_with_a_code_stored_meanwhile_is_regenerated_not_lost(
    user, action, monkeypatch
):
    issuer = PromoCodeIssuer(
        account_id=user.account_id, action_id=action.pk, campaign_id=None
    )
    codes = [
        issuer.issue(phone=f"+7916000{i:04d}", message_id=None) for i in range(600)
    ]
    # Another campaign stores one of our codes before we flush.
    PromoCode.objects.create(
        account_id=user.account_id, action=action, code=codes[7], phone="+79990000000"
    )
    assert issuer.flush() == 600
    mine = set(
        PromoCode.objects.filter(action=action)
        .exclude(phone="+79990000000")
        .values_list("code", flat=True)
    )
    assert len(mine) == 600 and codes[7] not in mine
    assert issuer.replaced[codes[7]] in mine


def test_a_foreign_action_cannot_be_used(action, other_user):
    with pytest.raises(PromoError) as exc:
        PromoCodeIssuer(
            account_id=other_user.account_id, action_id=action.pk, campaign_id=None
        )
    assert (
        exc.value.code == "not_found" and exc.value.message == "Промо-акция не найдена."
    )
    with pytest.raises(PromoAction.DoesNotExist):
        action_get(account_id=other_user.account_id, action_id=action.pk)
    assert promo_actions(account_id=other_user.account_id) == []
    assert [a.pk for a in promo_actions(account_id=action.account_id)] == [action.pk]


def test_random_codes_are_uniform_over_the_alphabet():
    chars = "".join(codegen.random_codes(20000, 10))
    counts = [chars.count(c) for c in codegen.ALPHABET]
    expected = len(chars) / len(codegen.ALPHABET)
    assert set(chars) == set(codegen.ALPHABET)
    assert all(abs(n - expected) < expected * 0.05 for n in counts)
    assert not set(chars) & set("01OIL")


def test_copy_rows_escape_what_the_text_format_needs():
    from datetime import UTC, datetime

    from promo.services import _copy_text

    now = datetime(2026, 1, 1, tzinfo=UTC)
    (block,) = _copy_text([("ABCD", "+7\t9\\1\n", None)], 1, 2, None, now)
    assert (
        block
        == "1\t2\tABCD\t+7\\t9\\\\1\\n\t\\N\t\\N\t2026-01-01T00:00:00+00:00\t\t0\n"
    )
