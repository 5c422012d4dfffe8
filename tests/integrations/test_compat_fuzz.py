"""Property-based run of the JSON API v1.0 (SPEC A3): whatever JSON a client
sends — any shape, any types, valid requests with fields swapped for junk —
the answer is the API's envelope (never a server error), and a refused request
changes nothing: no message, no charge."""

from decimal import Decimal

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import given
from hypothesis import strategies as st

from billing.models import LedgerEntry
from cabinet.models import Account
from messaging.models import Message
from tests.properties import repeatable

pytestmark = pytest.mark.django_db


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["79161234567", "+7 916 123-45-67", "", "2026-11-25 10:00"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
MESSAGE_FIELDS = {
    "recipient": st.one_of(
        st.sampled_from(["79161234567", "+375291234567", "8 903 123 45 67", "7"]),
        JSON,
    ),
    "recipientType": st.one_of(st.sampled_from(["recipient", "group", "x"]), JSON),
    "id": st.one_of(st.text(max_size=40), st.integers(), JSON),
    "text": st.one_of(st.text(max_size=200), JSON),
    "source": st.one_of(st.sampled_from(["SMSinfo", "NOPE", ""]), JSON),
    "timeout": st.one_of(st.integers(-10, 10**7), JSON),
    "shortenUrl": JSON,
}
MESSAGES = st.fixed_dictionaries(
    {},
    optional=MESSAGE_FIELDS,
)
TOP_FIELDS = {
    "validate": JSON,
    "tags": st.one_of(st.lists(st.text(max_size=60), max_size=3), JSON),
    "duplicateRecipientsAllowed": JSON,
    "opsosAllowed": st.one_of(st.lists(st.sampled_from(["mts", "beeline"])), JSON),
    "opsosDisallowed": JSON,
    "startDateTime": st.one_of(
        st.sampled_from(["2030-01-01 10:00", "2020-01-01 10:00", "завтра", ""]), JSON
    ),
    "timeZone": st.one_of(st.sampled_from(["Europe/Moscow", "+03:00", "Марс"]), JSON),
    "timeRange": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "from": st.sampled_from(["09:00", "25:00", "x"]),
                "to": st.sampled_from(["21:00", "00:00"]),
                "weekdays": st.one_of(st.lists(st.integers(-1, 9)), JSON),
            },
        ),
        JSON,
    ),
    "smooth": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "portions": st.one_of(st.integers(-1, 10**6), JSON),
                "interval": st.one_of(st.integers(-1, 10**6), JSON),
            },
        ),
        JSON,
    ),
    "transliterate": JSON,
    "channel": JSON,
    "schemeId": JSON,
}
PLAUSIBLE_MESSAGES = st.fixed_dictionaries(
    {
        "recipient": st.sampled_from(
            ["79161234567", "+7 903 123-45-67", "+375291234567", "89261234568"]
        ),
        "text": st.text(min_size=1, max_size=300),
        "id": st.text("abc123", min_size=1, max_size=8),
    },
    optional={
        "timeout": st.integers(1, 86_400),
        "source": st.just("SMSinfo"),
        "shortenUrl": st.booleans(),
    },
)
PLAUSIBLE_TOP = {
    "validate": st.booleans(),
    "tags": st.lists(st.text(max_size=10), max_size=3),
    "duplicateRecipientsAllowed": st.booleans(),
    "transliterate": st.booleans(),
    "startDateTime": st.sampled_from(["2030-01-01 10:00", "2030-06-01T10:00:00"]),
}
SEND_BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"messages": st.lists(MESSAGES, min_size=1, max_size=3)},
        optional=TOP_FIELDS,
    ),
    # Requests that mostly send, with now and then a junk message or field.
    st.fixed_dictionaries(
        {
            "messages": st.lists(
                st.one_of(PLAUSIBLE_MESSAGES, PLAUSIBLE_MESSAGES, MESSAGES),
                min_size=1,
                max_size=4,
            )
        },
        optional={**PLAUSIBLE_TOP, "timeRange": TOP_FIELDS["timeRange"]},
    ),
)


def envelope(resp) -> dict:
    assert resp.status_code < 500, resp.content[:500]
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("success"), bool), body
    if not body["success"]:
        assert isinstance(body["error"]["code"], int) and body["error"]["descr"]
    return body


def quiet_connections():
    # Django's test client reconnects these after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


def money(account_id):
    account = Account.objects.get(pk=account_id)
    total = sum(
        (e.amount for e in LedgerEntry.objects.filter(account_id=account_id)),
        Decimal("0"),
    )
    assert account.balance == total
    return account.balance


def test_any_send_body_gets_the_envelope_and_a_refusal_changes_nothing(
    user, compat_for
):
    api = compat_for(user)

    @repeatable(60, "COMPAT_FUZZ_EXAMPLES")
    @given(body=SEND_BODIES)
    def run(body):
        quiet_connections()
        before_messages = Message.objects.count()
        before_money = money(user.account_id)
        resp = api.send(body)
        answer = envelope(resp)
        accepted = answer["success"] and any(
            m.get("success") for m in answer["result"]["messages"]
        )
        outcomes["accepted" if accepted else "refused"] += 1
        if not accepted or answer["result"].get("validate"):
            assert Message.objects.count() == before_messages
            assert money(user.account_id) == before_money
        else:
            spent = before_money - money(user.account_id)
            assert spent == Decimal(str(answer["result"]["price"]["sum"]))

    outcomes = {"accepted": 0, "refused": 0}
    run()
    # The generator reaches both: requests that send and requests refused.
    assert outcomes["accepted"] >= 3 and outcomes["refused"] >= 3, outcomes


def test_any_status_body_gets_the_envelope(user, compat_for):
    api = compat_for(user)

    @repeatable(60, "COMPAT_FUZZ_EXAMPLES")
    @given(
        body=st.one_of(
            JSON,
            st.lists(
                st.dictionaries(
                    st.sampled_from(["id", "smscId", "x"]), JSON, max_size=2
                ),
                max_size=3,
            ),
        )
    )
    def run(body):
        quiet_connections()
        envelope(api.status(body))

    run()
