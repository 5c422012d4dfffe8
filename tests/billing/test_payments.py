import json
from decimal import Decimal

import pytest
from django.core import mail

from billing.acquirer import CARD_DECLINED, CARD_NO_FUNDS, CARD_SUCCESS, get_acquirer
from billing.models import AcquirerCallback, LedgerEntry, Payment
from billing.services import callback_sign, ledger_post
from cabinet.models import Account, Notification


def _balance(user):
    return Account.objects.get(pk=user.account_id).balance


def _start(client, amount="500", method="card", **extra):
    prefix = "card" if method == "card" else "wallet"
    data = {
        f"{prefix}-amount": amount,
        **{f"{prefix}-{k}": v for k, v in extra.items()},
    }
    resp = client.post(f"/billing/pay/{method}/", data)
    assert resp.status_code == 302, resp.content.decode()[:300]
    return Payment.objects.latest("id"), resp["Location"]


def test_card_payment_credits_the_balance_once_and_notifies(client_for, user):
    from cabinet.models import User
    from messaging.models import Message

    User.objects.filter(pk=user.pk).update(phone="+79161234567")
    client = client_for(user)
    payment, page_url = _start(client, "500")
    assert page_url == f"/billing/acquirer/{payment.token}/"
    assert "4242" in client.get(page_url).content.decode()
    resp = client.post(
        page_url, {"number": "4242 4242 4242 4242", "exp": "12/39", "cvc": "123"}
    )
    assert resp["Location"] == f"/billing/payments/{payment.token}/"
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.card_mask == "4242 •••• 4242"
    assert _balance(user) == Decimal("1500.00")
    entry = LedgerEntry.objects.get(reference=f"payment:{payment.pk}")
    assert entry.kind == "payment" and entry.amount == Decimal("500.00")
    assert (
        Notification.objects.filter(account_id=user.account_id, kind="payment").count()
        == 1
    )
    assert any("Баланс пополнен" in m.subject for m in mail.outbox)
    sms = Message.objects.get(phone="+79161234567")
    assert "Баланс пополнен на 500,00 руб." in sms.text and sms.price == 0
    assert _balance(user) == Decimal("1500.00")  # the SMS is free
    assert "Оплачен" in client.get(resp["Location"]).content.decode()


def test_a_replayed_callback_never_credits_twice(client, user):
    payment = Payment.objects.create(
        account=user.account, method="card", amount=Decimal("300"), token="tok-1"
    )
    body = json.dumps(
        {
            "token": "tok-1",
            "status": "succeeded",
            "amount": "300.00",
            "transaction": "t1",
        }
    ).encode()
    for _ in range(3):
        resp = client.post(
            "/billing/acquirer/callback/",
            body,
            content_type="application/json",
            HTTP_X_SIGNATURE=callback_sign(body),
        )
        assert resp.status_code == 200
    assert _balance(user) == Decimal("1300.00")
    assert LedgerEntry.objects.filter(reference=f"payment:{payment.pk}").count() == 1
    assert list(
        AcquirerCallback.objects.values_list("result", flat=True).order_by("id")
    ) == ["credited", "duplicate", "duplicate"]


def test_a_forged_or_mismatched_callback_changes_nothing(client, user):
    Payment.objects.create(
        account=user.account, method="card", amount=Decimal("300"), token="tok-2"
    )
    body = json.dumps(
        {"token": "tok-2", "status": "succeeded", "amount": "300.00"}
    ).encode()
    resp = client.post(
        "/billing/acquirer/callback/",
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE="0" * 64,
    )
    assert resp.status_code == 403
    wrong = json.dumps(
        {"token": "tok-2", "status": "succeeded", "amount": "3000.00"}
    ).encode()
    resp = client.post(
        "/billing/acquirer/callback/",
        wrong,
        content_type="application/json",
        HTTP_X_SIGNATURE=callback_sign(wrong),
    )
    assert resp.status_code == 403
    garbage = b"not json"
    resp = client.post(
        "/billing/acquirer/callback/",
        garbage,
        content_type="application/json",
        HTTP_X_SIGNATURE=callback_sign(garbage),
    )
    assert resp.status_code == 403
    assert _balance(user) == Decimal("1000.00")
    assert Payment.objects.get(token="tok-2").status == "pending"


@pytest.mark.parametrize(
    "card,reason",
    [(CARD_DECLINED, "отклонена"), (CARD_NO_FUNDS, "Недостаточно средств")],
)
def test_declined_cards_fail_without_money(client_for, user, card, reason):
    client = client_for(user)
    payment, page_url = _start(client, "200")
    client.post(page_url, {"number": card, "exp": "01/40", "cvc": "321"})
    payment.refresh_from_db()
    assert payment.status == "failed" and reason in payment.error
    assert _balance(user) == Decimal("1000.00")
    assert reason in client.get(f"/billing/payments/{payment.token}/").content.decode()
    # A failed payment's page cannot be paid again.
    again = client.post(
        page_url, {"number": CARD_SUCCESS, "exp": "01/40", "cvc": "321"}
    )
    assert again.status_code == 302
    assert _balance(user) == Decimal("1000.00")


@pytest.mark.parametrize(
    "number,exp,cvc,message",
    [
        ("4242 4242 4242 4241", "12/39", "123", "Неверный номер карты."),
        ("4242424242424242", "01/20", "123", "Срок действия карты истёк."),
        ("4242424242424242", "1339", "123", "Срок действия — в формате ММ/ГГ."),
        ("4242424242424242", "12/39", "12a", "CVC"),
    ],
)
def test_the_acquirer_page_rejects_bad_card_data(
    client_for, user, number, exp, cvc, message
):
    client = client_for(user)
    payment, page_url = _start(client)
    resp = client.post(page_url, {"number": number, "exp": exp, "cvc": cvc})
    assert resp.status_code == 400 and message in resp.content.decode()
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert not get_acquirer().journal


def test_wallet_payment_approve_and_decline(client_for, user):
    client = client_for(user)
    payment, page_url = _start(client, "150", method="wallet", wallet="yoomoney")
    assert "ЮMoney" in client.get(page_url).content.decode()
    client.post(page_url, {"decision": "approve"})
    payment.refresh_from_db()
    assert payment.status == "succeeded" and _balance(user) == Decimal("1150.00")
    payment2, page_url = _start(client, "150", method="wallet", wallet="qiwi")
    client.post(page_url, {"decision": "decline"})
    payment2.refresh_from_db()
    assert payment2.status == "failed" and _balance(user) == Decimal("1150.00")


@pytest.mark.parametrize(
    "amount,message",
    [("5", "Минимальная сумма — 10 ₽."), ("abc", "Введите сумму числом.")],
)
def test_bad_amounts_are_refused_with_a_message(client_for, user, amount, message):
    resp = client_for(user).post("/billing/pay/card/", {"card-amount": amount})
    assert resp.status_code == 400 and message in resp.content.decode()
    assert not Payment.objects.exists()


def test_staff_refund_goes_through_the_acquirer_and_the_ledger(client, user, staff):
    payment = Payment.objects.create(
        account=user.account, method="card", amount=Decimal("400"), token="tok-r"
    )
    get_acquirer()._notify(token="tok-r", amount=Decimal("400.00"), status="succeeded")
    assert _balance(user) == Decimal("1400.00")
    client.force_login(staff)
    resp = client.post(
        "/admin/billing/payment/",
        {"action": "refund", "_selected_action": [payment.pk]},
    )
    assert resp.status_code == 302
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert _balance(user) == Decimal("1000.00")
    refund = LedgerEntry.objects.get(kind="payment_refund")
    assert (
        refund.amount == Decimal("-400.00")
        and refund.reference == f"payment:{payment.pk}"
    )
    # A second refund is refused and changes nothing.
    client.post(
        "/admin/billing/payment/",
        {"action": "refund", "_selected_action": [payment.pk]},
    )
    assert _balance(user) == Decimal("1000.00")


def test_refund_is_refused_when_the_money_was_spent(client, user, staff):
    payment = Payment.objects.create(
        account=user.account, method="card", amount=Decimal("400"), token="tok-s"
    )
    get_acquirer()._notify(token="tok-s", amount=Decimal("400.00"), status="succeeded")
    ledger_post(
        account_id=user.account_id, amount=Decimal("-1300"), kind="charge", reason="x"
    )
    client.force_login(staff)
    client.post(
        "/admin/billing/payment/",
        {"action": "refund", "_selected_action": [payment.pk]},
    )
    payment.refresh_from_db()
    assert payment.status == "succeeded" and _balance(user) == Decimal("100.00")


def test_payment_pages_of_another_account_are_404(client_for, user, other_user):
    payment = Payment.objects.create(
        account=other_user.account,
        method="card",
        amount=Decimal("100"),
        token="foreign",
    )
    assert (
        client_for(user).get(f"/billing/payments/{payment.token}/").status_code == 404
    )


def test_read_only_and_operator_roles_cannot_pay(make_user, client_for, user):
    for role in ("readonly", "operator"):
        member = make_user(account=user.account, role=role)
        resp = client_for(member).post("/billing/pay/card/", {"card-amount": "100"})
        assert resp.status_code == 403
    assert not Payment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_acquirer_calls_back_over_http(live_server, settings, make_user):
    """``delivery: "http"``: the signed callback travels over HTTP to our endpoint
    (a Celery task, eager here) exactly as a real acquirer's would."""
    from billing.acquirer import reset_acquirer

    settings.BILLING_ACQUIRER = {
        "BACKEND": "billing.acquirer.FakeAcquirer",
        "OPTIONS": {
            "delivery": "http",
            "callback_url": live_server.url + "/billing/acquirer/callback/",
        },
    }
    reset_acquirer()
    user = make_user("http@example.com")
    payment = Payment.objects.create(
        account=user.account, method="card", amount=Decimal("120"), token="tok-http"
    )
    get_acquirer().pay_card(
        token="tok-http",
        amount=payment.amount,
        number=CARD_SUCCESS,
        exp="12/39",
        cvc="123",
    )
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert _balance(user) == Decimal("1120.00")
    assert AcquirerCallback.objects.get().signature_ok


def test_abandoned_payments_expire_and_a_late_success_still_credits(user):
    from datetime import timedelta

    from django.utils import timezone

    from billing.services import payments_expire

    old = Payment.objects.create(
        account=user.account, method="card", amount=Decimal("90"), token="tok-old"
    )
    fresh = Payment.objects.create(
        account=user.account, method="card", amount=Decimal("90"), token="tok-new"
    )
    Payment.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert payments_expire() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == "failed" and old.error == "Срок оплаты истёк"
    assert fresh.status == "pending"
    get_acquirer()._notify(token="tok-old", amount=Decimal("90.00"), status="succeeded")
    old.refresh_from_db()
    assert old.status == "succeeded" and _balance(user) == Decimal("1090.00")
