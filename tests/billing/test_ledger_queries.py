from decimal import Decimal

from billing.services import DuplicateEntry, ledger_post


def test_a_post_costs_few_queries(user, django_assert_max_num_queries):
    # lock + insert + update (+ the test's own savepoint pair around atomic)
    with django_assert_max_num_queries(5):
        ledger_post(
            account_id=user.account_id,
            amount=Decimal("-1"),
            kind="charge",
            reason="x",
            service="sms",
        )
    # + a savepoint pair around the insert guarded by the unique reference
    with django_assert_max_num_queries(7):
        ledger_post(
            account_id=user.account_id,
            amount=Decimal("2"),
            kind="payment",
            reason="y",
            reference="payment:1",
        )


def test_a_duplicate_leaves_the_transaction_usable(user):
    from django.db import transaction

    from cabinet.models import Account

    with transaction.atomic():
        ledger_post(
            account_id=user.account_id,
            amount=Decimal("5"),
            kind="payment",
            reason="p",
            reference="payment:9",
        )
        try:
            ledger_post(
                account_id=user.account_id,
                amount=Decimal("5"),
                kind="payment",
                reason="p",
                reference="payment:9",
            )
        except DuplicateEntry:
            pass
        ledger_post(
            account_id=user.account_id, amount=Decimal("1"), kind="bonus", reason="b"
        )
    assert Account.objects.get(pk=user.account_id).balance == Decimal("1006.00")
