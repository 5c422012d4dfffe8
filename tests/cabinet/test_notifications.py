"""The notification port (cabinet/notifications.py): notify() records the
notification and hands it to the registered transports after commit; service
texts (the sign-in code, payment SMS) go through the text transport the
messaging app registers; a missing or failing transport never undoes a
payment."""

import logging
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.urls import reverse

from billing.acquirer import get_acquirer
from billing.models import Payment
from cabinet import notifications
from cabinet.models import Account, Notification, User
from cabinet.notifications import DeliveryError, Transport, notify
from cabinet.security import CodeError, login_code_send
from messaging.models import Message

pytestmark = pytest.mark.django_db
PHONE = "+79161234567"


class Recorder(Transport):
    """A transport that keeps what it was given (notes and texts)."""

    def __init__(self, code="recorder", kinds=None, fail_with=None):
        self.code = code
        self.kinds = kinds
        self.fail_with = fail_with
        self.notes = []
        self.texts = []

    def deliver(self, note):
        if self.fail_with:
            raise self.fail_with
        self.notes.append(note)

    def send_text(self, *, account, phone, text):
        if self.fail_with:
            raise self.fail_with
        self.texts.append((account.pk, phone, text))


@pytest.fixture
def recorder(monkeypatch):
    transport = Recorder()
    monkeypatch.setitem(notifications.TRANSPORTS, transport.code, transport)
    return transport


@pytest.fixture
def texts(monkeypatch):
    """The "sms" text transport replaced by a recorder."""
    transport = Recorder(code="sms", kinds=frozenset())
    monkeypatch.setitem(notifications.TRANSPORTS, "sms", transport)
    return transport


@pytest.fixture
def owner_with_phone(user):
    User.objects.filter(pk=user.pk).update(phone=PHONE, two_factor=True)
    user.refresh_from_db()
    return user


def _pay(user, amount="300", token="tok-n"):
    Payment.objects.create(
        account=user.account, method="card", amount=Decimal(amount), token=token
    )
    get_acquirer()._notify(token=token, amount=Decimal(amount), status="succeeded")


def _balance(user):
    return Account.objects.get(pk=user.account_id).balance


# --- the port ------------------------------------------------------------------


def test_the_apps_register_their_transports_at_start_up():
    from messaging.notifications import SmsTransport

    assert isinstance(notifications.TRANSPORTS["email"], notifications.EmailTransport)
    assert isinstance(notifications.TRANSPORTS["sms"], SmsTransport)


def test_a_registered_transport_gets_the_notification_after_commit(user, recorder):
    with transaction.atomic():
        row = notify(
            account_id=user.account_id,
            kind=Notification.Kind.SENDER,
            title="Имя одобрено",
            body="Можно отправлять",
            url="/senders/",
        )
        assert recorder.notes == []  # nothing leaves before the commit
    assert Notification.objects.get(pk=row.pk).title == "Имя одобрено"
    [note] = recorder.notes
    assert (note.account_id, note.kind, note.title, note.body, note.url) == (
        user.account_id,
        "sender",
        "Имя одобрено",
        "Можно отправлять",
        "/senders/",
    )
    assert note.notification_id == row.pk


def test_a_rolled_back_notification_is_never_delivered(user, recorder):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(account_id=user.account_id, title="x")
        raise RuntimeError
    assert recorder.notes == []


def test_a_transport_gets_only_the_kinds_it_carries(user, monkeypatch):
    payments_only = Recorder(kinds=frozenset({"payment"}))
    monkeypatch.setitem(notifications.TRANSPORTS, "recorder", payments_only)
    notify(account_id=user.account_id, kind="info", title="Ответ на СМС")
    notify(account_id=user.account_id, kind="payment", title="Оплачено")
    assert [n.title for n in payments_only.notes] == ["Оплачено"]


def test_email_goes_to_the_owners_for_money_matters_only(user, make_user):
    make_user("operator@example.com", account=user.account, role="operator")
    notify(account_id=user.account_id, kind="info", title="Ответ на СМС")
    assert mail.outbox == []
    notify(account_id=user.account_id, kind="payment", title="Оплачено", body="100 ₽")
    [letter] = mail.outbox
    assert letter.subject == "Оплачено" and letter.body == "100 ₽"
    assert letter.to == [user.email]


def test_a_failing_transport_is_logged_and_the_others_still_deliver(
    user, recorder, monkeypatch, caplog
):
    broken = Recorder(code="broken", fail_with=RuntimeError("down"))
    monkeypatch.setitem(notifications.TRANSPORTS, "broken", broken)
    with caplog.at_level(logging.ERROR, logger="cabinet.notifications"):
        notify(account_id=user.account_id, kind="payment", title="Оплачено")
    assert [n.title for n in recorder.notes] == ["Оплачено"]
    assert len(mail.outbox) == 1
    assert "transport broken failed" in caplog.text


def test_another_transport_under_a_taken_code_is_refused():
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        notifications.register(Recorder(code="email"))
    # The same transport again (a second ready()) is harmless.
    notifications.register(notifications.EmailTransport())


# --- the two-step sign-in code ---------------------------------------------------


def test_the_sign_in_code_goes_through_the_text_transport(owner_with_phone, texts):
    login_code_send(user=owner_with_phone)
    [(account_id, phone, text)] = texts.texts
    assert account_id == owner_with_phone.account_id and phone == PHONE
    assert re.search(r"Код для входа в личный кабинет: \d{6}\.", text)
    assert not Message.objects.exists()  # the recorder stood in for the SMS


def test_the_sign_in_code_reaches_the_sms_pipeline_by_default(owner_with_phone):
    login_code_send(user=owner_with_phone)
    message = Message.objects.get(phone=PHONE)
    assert "Код для входа" in message.text and message.price == 0


def test_without_a_text_transport_the_sign_in_page_says_no_code_was_sent(
    client, owner_with_phone, monkeypatch, caplog
):
    monkeypatch.delitem(notifications.TRANSPORTS, "sms")
    with caplog.at_level(logging.ERROR, logger="cabinet.notifications"):
        with pytest.raises(CodeError, match="отправка сервисных сообщений не"):
            login_code_send(user=owner_with_phone)
        resp = client.post(
            reverse("cabinet:login"),
            {"username": owner_with_phone.email, "password": "secret-pass-123"},
        )
    assert resp.status_code == 200
    assert "Не удалось отправить SMS с кодом" in resp.content.decode()
    assert "no notification transport 'sms' is registered" in caplog.text


def test_the_text_transport_is_chosen_by_setting(
    owner_with_phone, recorder, texts, settings
):
    settings.SERVICE_TEXT_TRANSPORT = "recorder"
    login_code_send(user=owner_with_phone)
    assert len(recorder.texts) == 1 and texts.texts == []


def test_a_refused_sign_in_text_is_a_clear_error(owner_with_phone, texts):
    texts.fail_with = DeliveryError("номер в стоп-листе")
    with pytest.raises(CodeError) as exc:
        login_code_send(user=owner_with_phone)
    assert str(exc.value) == "Не удалось отправить SMS с кодом: номер в стоп-листе"


# --- payment texts -------------------------------------------------------------


def test_payment_texts_go_through_the_text_transport(owner_with_phone, texts):
    _pay(owner_with_phone, "300")
    assert _balance(owner_with_phone) == Decimal("1300.00")
    [(account_id, phone, text)] = texts.texts
    assert account_id == owner_with_phone.account_id and phone == PHONE
    assert text.startswith("Баланс пополнен на 300,00 руб.")
    assert any("Баланс пополнен" in m.subject for m in mail.outbox)


def test_a_payment_without_a_text_transport_is_still_credited(
    owner_with_phone, monkeypatch, caplog
):
    monkeypatch.delitem(notifications.TRANSPORTS, "sms")
    with caplog.at_level(logging.ERROR, logger="cabinet.notifications"):
        _pay(owner_with_phone, "300")
    assert _balance(owner_with_phone) == Decimal("1300.00")
    assert Payment.objects.get(token="tok-n").status == "succeeded"
    assert Notification.objects.filter(kind="payment").count() == 1
    assert "no notification transport 'sms' is registered" in caplog.text


@pytest.mark.parametrize("error", [DeliveryError("стоп-лист"), RuntimeError("boom")])
def test_a_failed_payment_text_never_undoes_the_payment(
    owner_with_phone, texts, caplog, error
):
    texts.fail_with = error
    with caplog.at_level(logging.WARNING, logger="cabinet.notifications"):
        _pay(owner_with_phone, "300")
    assert _balance(owner_with_phone) == Decimal("1300.00")
    assert Payment.objects.get(token="tok-n").status == "succeeded"
    assert f"service text to {PHONE}" in caplog.text


def test_the_low_balance_crossing_is_told_through_the_port(user, recorder):
    from billing.services import ledger_post

    Account.objects.filter(pk=user.account_id).update(
        low_balance_threshold=Decimal("500")
    )
    ledger_post(
        account_id=user.account_id, amount=Decimal("-600"), kind="charge", reason="x"
    )
    [note] = recorder.notes
    assert note.kind == "balance" and "ниже критического порога 500" in note.title
    assert [m.subject for m in mail.outbox] == [note.title]
