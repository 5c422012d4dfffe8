"""Notifications: one port, many transports.

The cabinet owns the notification centre (``Notification`` rows, the header
dropdown).  Everything else that tells the client something calls ``notify``:
it records the in-cabinet notification and, after the caller's transaction
commits, hands it to every registered delivery transport (e-mail here; the
messenger apps register theirs).  A short text for the owners' phones and a
service text to one phone (the two-step sign-in code) go through the *text*
transport that the messaging app registers in its ``AppConfig.ready()`` — so
the cabinet never imports the apps above it (healthchecks' ``TRANSPORTS`` map
is the model).

A transport that fails, or is missing, is a log line: a payment is never
undone because a letter or an SMS could not go out.  Only ``send_service_text``
raises (``DeliveryError``), because its caller (the sign-in page) must tell the
user that no code was sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Account, Notification, Role, User
from .services import notification_create

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A transport could not deliver (``message`` is for the user, in Russian)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Note:
    """What a transport delivers: one notification of one account."""

    account_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""
    notification_id: int | None = None


class Transport:
    """A way to reach the client outside the cabinet.

    ``code`` names it (unique).  ``kinds`` are the notification kinds it
    delivers (``None``: all of them).  ``deliver(note)`` finds its own
    recipients among the account's people.  A transport that can send a short
    text to a phone number implements ``send_text`` as well and may be chosen
    as the text transport (``settings.SERVICE_TEXT_TRANSPORT``)."""

    code: str = ""
    kinds: frozenset[str] | None = None

    def wants(self, note: Note) -> bool:
        return self.kinds is None or note.kind in self.kinds

    def deliver(self, note: Note) -> None:
        """Deliver ``note``; raise ``DeliveryError`` when it cannot."""

    def send_text(self, *, account: Account, phone: str, text: str) -> None:
        raise DeliveryError(
            _("Этот способ доставки не отправляет сообщения на номер телефона.")
        )


TRANSPORTS: dict[str, Transport] = {}


def register(transport: Transport) -> Transport:
    """Add a transport (from an ``AppConfig.ready()``).  A second transport
    with the same code is a configuration error at start-up."""
    if not transport.code:
        raise ImproperlyConfigured(f"{transport!r} has no code")
    present = TRANSPORTS.get(transport.code)
    if present is not None and type(present) is not type(transport):
        raise ImproperlyConfigured(
            f"notification transport {transport.code!r} registered twice: "
            f"{type(present).__name__} and {type(transport).__name__}"
        )
    TRANSPORTS[transport.code] = transport
    return transport


def unregister(code: str) -> None:
    """Remove a transport (tests)."""
    TRANSPORTS.pop(code, None)


def owners(account_id: int):
    """The account's active owners: the people notifications are for."""
    return User.objects.filter(account_id=account_id, role=Role.OWNER, is_active=True)


# --- the port ----------------------------------------------------------------------


def notify(
    *,
    account_id: int,
    kind: str = Notification.Kind.INFO,
    title: str,
    body: str = "",
    url: str = "",
    text: str = "",
) -> Notification:
    """Record a notification in the cabinet and deliver it through the
    registered transports once the caller's transaction commits.  ``text``,
    when given, also goes to the owners' phones as a free service text (the
    manual's "Об этом Вам придет уведомительное SMS")."""
    row = notification_create(
        account_id=account_id, title=title, body=body, kind=kind, url=url
    )
    note = Note(
        account_id=account_id,
        kind=kind,
        title=row.title,
        body=body,
        url=url,
        notification_id=row.pk,
    )
    if text:
        transaction.on_commit(lambda: text_owners(account_id=account_id, text=text))
    transaction.on_commit(lambda: deliver(note))
    return row


def deliver(note: Note) -> None:
    """Hand ``note`` to every transport that carries its kind.  One transport
    failing never stops the others, and never reaches the caller."""
    for code, transport in list(TRANSPORTS.items()):
        if not transport.wants(note):
            continue
        try:
            transport.deliver(note)
        except DeliveryError as exc:
            log.warning(
                "notification %s (%s) not delivered by %s: %s",
                note.notification_id,
                note.kind,
                code,
                exc.message,
            )
        except Exception:
            log.exception(
                "notification %s (%s): transport %s failed",
                note.notification_id,
                note.kind,
                code,
            )


def text_transport() -> Transport:
    """The transport that sends service texts (``SERVICE_TEXT_TRANSPORT``).
    Raises ``DeliveryError`` (and logs why) when it is not registered."""
    code = getattr(settings, "SERVICE_TEXT_TRANSPORT", "sms")
    transport = TRANSPORTS.get(code)
    if transport is None:
        log.error(
            "service text not sent: no notification transport %r is registered "
            "(SERVICE_TEXT_TRANSPORT; registered: %s)",
            code,
            ", ".join(sorted(TRANSPORTS)) or "none",
        )
        raise DeliveryError(_("отправка сервисных сообщений не настроена"))
    return transport


def send_service_text(*, account: Account, phone: str, text: str) -> None:
    """Send a short service text (a sign-in code) to ``phone`` now, free.
    Raises ``DeliveryError`` with the reason when it cannot be sent."""
    text_transport().send_text(account=account, phone=phone, text=text)


def text_owners(*, account_id: int, text: str) -> int:
    """Send ``text`` to every owner's phone; returns how many were sent.
    Failures are logged, never raised (called after a payment committed)."""
    phones = sorted(
        set(owners(account_id).exclude(phone="").values_list("phone", flat=True))
    )
    if not phones:
        return 0
    try:
        transport = text_transport()
        account = Account.objects.get(pk=account_id)
    except (DeliveryError, Account.DoesNotExist):
        return 0
    sent = 0
    for phone in phones:
        try:
            transport.send_text(account=account, phone=phone, text=text)
        except DeliveryError as exc:
            log.warning("service text to %s not sent: %s", phone, exc.message)
        except Exception:
            log.exception("service text to %s: transport %s failed", phone, transport)
        else:
            sent += 1
    return sent


# --- e-mail, the transport the cabinet brings itself --------------------------------


class EmailTransport(Transport):
    """E-mail to the account's owners.  Carries money matters only (payments,
    the critical balance), as before the port existed; the messenger transports
    will offer every kind."""

    code = "email"
    kinds = frozenset({Notification.Kind.BALANCE, Notification.Kind.PAYMENT})

    def deliver(self, note: Note) -> None:
        recipients = list(owners(note.account_id).values_list("email", flat=True))
        if recipients:
            send_mail(note.title, note.body, None, recipients)
