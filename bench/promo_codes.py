"""``manage.py bench promo_codes --count 1000000``

Issues ``count`` promo codes for one campaign through ``PromoCodeIssuer`` —
exactly what the SMS engine does while rendering ``[couponCode]`` — and writes
them with ``flush()`` (PostgreSQL ``COPY``) in one transaction, then checks
that every stored code is distinct.  ``--existing N`` first stores N codes of
the same length in the account, so issuing also checks each batch of fresh
codes against the database.  Everything runs in a transaction that is rolled
back: the benchmark leaves nothing behind."""

import time

from django.db import connection, transaction


def add_arguments(parser):
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--length", type=int, default=8, help="code length, 4–15")
    parser.add_argument(
        "--existing",
        type=int,
        default=0,
        help="codes of the same length already in the account",
    )


def run(*, count: int, length: int, existing: int, **_options) -> dict:
    from cabinet.models import Account
    from promo.models import PromoAction, PromoCode
    from promo.services import PromoCodeIssuer

    result: dict = {
        "count": count,
        "length": length,
        "existing": existing,
        "database": connection.vendor,
    }
    with transaction.atomic():
        account = Account.objects.create(name="bench promo_codes")
        action = PromoAction.objects.create(
            account=account, name="bench", code_length=length
        )
        if existing:
            earlier = PromoAction.objects.create(
                account=account, name="earlier", code_length=length
            )
            seed = PromoCodeIssuer(
                account_id=account.pk, action_id=earlier.pk, campaign_id=None
            )
            for i in range(existing):
                seed.issue(phone=f"+7900{i:07d}", message_id=None)
            seed.flush()
        t0 = time.perf_counter()
        issuer = PromoCodeIssuer(
            account_id=account.pk, action_id=action.pk, campaign_id=None, expected=count
        )
        issue = issuer.issue
        for i in range(count):
            issue(phone=f"+7916{i:07d}", message_id=None)
        t1 = time.perf_counter()
        written = issuer.flush()
        t2 = time.perf_counter()
        stored = PromoCode.objects.filter(action=action).count()
        with connection.cursor() as cur:
            cur.execute(
                "SELECT COUNT(DISTINCT code) FROM promo_promocode "
                "WHERE account_id = %s",
                [account.pk],
            )
            distinct = cur.fetchone()[0]
        transaction.set_rollback(True)
    result.update(
        {
            "issue_seconds": round(t1 - t0, 3),
            "flush_seconds": round(t2 - t1, 3),
            "issue_codes_per_s": round(count / (t1 - t0)),
            "codes_per_s": round(count / (t2 - t0)),
            "written": written,
            "stored": stored,
            "all_distinct": distinct == stored + existing,
        }
    )
    return result
