"""The acquirer (payment provider) behind card and e-wallet payments.

Configured like a gateway: ``BILLING_ACQUIRER = {"BACKEND": dotted path,
"OPTIONS": {...}}``.  ``FakeAcquirer`` behaves like a real hosted-payment
provider: the user pays on its page (ours at /billing/acquirer/<token>/), it
decides by the test card, and it tells us the outcome in a server-to-server
callback signed with HMAC-SHA256 — delivered over HTTP to
``billing:acquirer_callback`` (``delivery: "http"``, retried by Celery) or, on
a single machine and in tests, handed to the same processing function
(``delivery: "direct"``).  Its ``journal`` records every operation.
"""

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

# Test cards, as acquirers publish them.  Any other valid (Luhn) card succeeds.
CARD_DECLINED = "4000000000000002"
CARD_NO_FUNDS = "4000000000009995"
CARD_SUCCESS = "4242424242424242"
DECLINES = {
    CARD_DECLINED: "Операция отклонена банком-эмитентом",
    CARD_NO_FUNDS: "Недостаточно средств на карте",
}
WALLETS = {"yoomoney": "ЮMoney", "webmoney": "WebMoney", "qiwi": "Qiwi"}


class AcquirerError(Exception):
    """The user's input on the acquirer page is invalid (nothing was charged)."""


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass
class Outcome:
    status: str  # succeeded | failed
    error: str = ""


class FakeAcquirer:
    def __init__(self, *, delivery: str = "direct", callback_url: str = ""):
        self.delivery = delivery
        self.callback_url = callback_url
        self.journal: list[dict] = []

    def hosted_page_url(self, *, token: str) -> str:
        return reverse("billing:acquirer_page", args=[token])

    # -- the hosted page ---------------------------------------------------
    def pay_card(
        self, *, token: str, amount, number: str, exp: str, cvc: str
    ) -> Outcome:
        number = "".join(ch for ch in number if ch.isdigit())
        if not 13 <= len(number) <= 19 or not luhn_ok(number):
            raise AcquirerError(_("Неверный номер карты."))
        try:
            month, year = (int(p) for p in exp.replace(" ", "").split("/"))
            year += 2000 if year < 100 else 0
            expires = dt.date(year, month, 1)
        except (ValueError, TypeError) as exc:
            raise AcquirerError(_("Срок действия — в формате ММ/ГГ.")) from exc
        today = dt.date.today()
        if (expires.year, expires.month) < (today.year, today.month):
            raise AcquirerError(_("Срок действия карты истёк."))
        if not (cvc.isdigit() and len(cvc) in (3, 4)):
            raise AcquirerError(_("CVC — 3 цифры с обратной стороны карты."))
        mask = f"{number[:4]} •••• {number[-4:]}"
        error = DECLINES.get(number, "")
        outcome = Outcome("failed" if error else "succeeded", error)
        self._notify(
            token=token,
            amount=amount,
            status=outcome.status,
            error=error,
            card_mask=mask,
        )
        return outcome

    def pay_wallet(self, *, token: str, amount, wallet: str, approve: bool) -> Outcome:
        if wallet not in WALLETS:
            raise AcquirerError(_("Неизвестный кошелёк."))
        error = "" if approve else "Платёж отклонён в кошельке"
        outcome = Outcome("succeeded" if approve else "failed", error)
        self._notify(
            token=token,
            amount=amount,
            status=outcome.status,
            error=error,
            card_mask=WALLETS[wallet],
        )
        return outcome

    def refund(self, *, token: str) -> None:
        from .models import Payment

        payment = Payment.objects.get(token=token)
        self._notify(token=token, amount=payment.amount, status="refunded")

    # -- the callback --------------------------------------------------------
    def _notify(
        self, *, token: str, amount, status: str, error: str = "", card_mask: str = ""
    ) -> None:
        from .services import callback_sign

        payload = {
            "token": token,
            "status": status,
            "amount": str(amount),
            "transaction": secrets.token_hex(8),
            "error": error,
            "card_mask": card_mask,
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        signature = callback_sign(body)
        self.journal.append(payload)
        if self.delivery == "http":
            from .tasks import acquirer_deliver_callback

            url = self.callback_url or settings.BILLING_ACQUIRER_CALLBACK_URL
            transaction.on_commit(
                lambda: acquirer_deliver_callback.delay(url, body.decode(), signature)
            )
        else:
            from .services import payment_callback_process

            payment_callback_process(body=body, signature=signature)


FAKE_ACQUIRER = "billing.acquirer.FakeAcquirer"
NO_ACQUIRER = "none"


def acquirer_backend() -> str | None:
    """The configured acquirer's dotted path: the fake one when none is chosen
    (development; cabinet/deploy.py refuses that in production), ``None`` when
    card and e-wallet payments are turned off (``BILLING_ACQUIRER=none``)."""
    backend = settings.BILLING_ACQUIRER.get("BACKEND") or FAKE_ACQUIRER
    return None if backend.lower() == NO_ACQUIRER else backend


def card_payments_enabled() -> bool:
    return acquirer_backend() is not None


@lru_cache(maxsize=1)
def get_acquirer():
    """The acquirer; call only when ``card_payments_enabled()``."""
    backend = acquirer_backend()
    if backend is None:
        raise LookupError("card payments are turned off (BILLING_ACQUIRER=none)")
    return import_string(backend)(**settings.BILLING_ACQUIRER.get("OPTIONS", {}))


def reset_acquirer() -> None:
    get_acquirer.cache_clear()
