"""Many concurrent charges, refunds and top-ups against one account: the balance
always equals the sum of the ledger and never goes below -credit_limit; the
critical-balance alert fires exactly once per downward crossing."""

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from billing.models import LedgerEntry
from billing.selectors import ledger_sum
from billing.services import InsufficientFunds, ledger_post
from cabinet.models import Account, Notification

THREADS = 8
OPS_PER_THREAD = 30


@pytest.mark.django_db(transaction=True)
def test_concurrent_money_movement_keeps_the_ledger_and_the_limit(make_user):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs real row locks from concurrent connections: run on PostgreSQL "
            "(DATABASE_URL=postgres://…); SQLite serialises writers per database"
        )
    user = make_user("race@example.com", balance=Decimal("300"))
    aid = user.account_id
    Account.objects.filter(pk=aid).update(
        credit_limit=Decimal("50"), low_balance_threshold=Decimal("100")
    )
    refused = []
    errors = []
    start = threading.Barrier(THREADS)

    def worker(seed: int):
        rnd = random.Random(seed)
        try:
            start.wait()
            for _ in range(OPS_PER_THREAD):
                op = rnd.random()
                amount = Decimal(rnd.randint(100, 9000)) / 100
                try:
                    if op < 0.6:
                        ledger_post(
                            account_id=aid,
                            amount=-amount,
                            kind="charge",
                            reason="c",
                            service="sms",
                        )
                    elif op < 0.8:
                        ledger_post(
                            account_id=aid,
                            amount=amount / 4,
                            kind="refund",
                            reason="r",
                            service="sms",
                        )
                    else:
                        ledger_post(
                            account_id=aid, amount=amount, kind="topup", reason="t"
                        )
                except InsufficientFunds:
                    refused.append(1)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    account = Account.objects.get(pk=aid)
    entries = list(LedgerEntry.objects.filter(account_id=aid).order_by("id"))
    assert len(entries) == 1 + THREADS * OPS_PER_THREAD - len(refused)
    assert account.balance == ledger_sum(account_id=aid)
    assert refused, "the test must push the account against its limit"
    # Each entry's balance_after is the running sum in commit order: no lost update.
    running = Decimal("0")
    crossings = 0
    for e in entries:
        before = running
        running += e.amount
        assert e.balance_after == running
        assert running >= Decimal("-50")
        if before >= Decimal("100") > running:
            crossings += 1
    assert (
        Notification.objects.filter(account_id=aid, kind="balance").count() == crossings
    )
