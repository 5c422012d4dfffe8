"""Technical support (Техподдержка): tickets with a thread of messages; staff
reply from the admin; both sides get e-mail copies."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from .models import Ticket, TicketMessage, User

log = logging.getLogger(__name__)


def _mail(subject: str, body: str, to: list[str]) -> None:
    to = [t for t in to if t]
    if not to:
        return

    def send():
        try:
            send_mail(subject, body, None, to)
        except Exception:  # mail outages never lose a ticket
            log.exception("support e-mail to %s failed", to)

    transaction.on_commit(send)


# --- selectors ------------------------------------------------------------------


def tickets(*, account_id: int):
    return (
        Ticket.objects.filter(account_id=account_id)
        .annotate(message_count=Count("messages"), last_at=Max("messages__created_at"))
        .order_by("-updated_at", "-id")
    )


def ticket_get(*, account_id: int, pk: int) -> Ticket:
    return get_object_or_404(Ticket, account_id=account_id, pk=pk)


def ticket_thread(*, ticket: Ticket):
    return ticket.messages.select_related("author")


# --- services ---------------------------------------------------------------------


def ticket_create(*, account, author: User, subject: str, body: str) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.create(
            account=account, subject=subject[:200], created_by=author
        )
        TicketMessage.objects.create(ticket=ticket, author=author, body=body)
    _mail(
        f"[Тикет #{ticket.pk}] {ticket.subject}",
        f"Ваш вопрос принят, мы ответим в ближайшее время.\n\n{body}",
        [author.email],
    )
    _mail(
        f"[Тикет #{ticket.pk}] Новый вопрос: {ticket.subject}",
        f"Аккаунт: {account}\nОт: {author.email}\n\n{body}",
        [settings.SUPPORT_EMAIL],
    )
    return ticket


def ticket_reply(*, ticket: Ticket, author: User, body: str) -> TicketMessage:
    """The client adds to the thread (re-opens a closed or answered ticket)."""
    with transaction.atomic():
        msg = TicketMessage.objects.create(ticket=ticket, author=author, body=body)
        Ticket.objects.filter(pk=ticket.pk).update(
            status=Ticket.Status.OPEN, updated_at=timezone.now()
        )
    _mail(
        f"[Тикет #{ticket.pk}] Новое сообщение: {ticket.subject}",
        f"От: {author.email}\n\n{body}",
        [settings.SUPPORT_EMAIL],
    )
    return msg


def ticket_staff_reply(*, ticket: Ticket, staff: User, body: str) -> TicketMessage:
    """A staff answer: into the thread, a notification, and an e-mail copy to the
    ticket's author (and the account's owners)."""
    from .models import Role
    from .services import notification_create

    with transaction.atomic():
        msg = TicketMessage.objects.create(
            ticket=ticket, author=staff, body=body, is_staff_reply=True
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            status=Ticket.Status.ANSWERED, updated_at=timezone.now()
        )
        notification_create(
            account_id=ticket.account_id,
            kind="support",
            title=f"Ответ техподдержки: {ticket.subject}",
            body=body[:500],
            url=reverse("cabinet:support_ticket", args=[ticket.pk]),
        )
    recipients = set(
        User.objects.filter(
            account_id=ticket.account_id, role=Role.OWNER, is_active=True
        ).values_list("email", flat=True)
    )
    if ticket.created_by_id:
        recipients.add(ticket.created_by.email)
    _mail(
        f"[Тикет #{ticket.pk}] Ответ техподдержки: {ticket.subject}",
        f"{body}\n\nОтветить можно в личном кабинете, раздел «Техподдержка».",
        sorted(recipients),
    )
    return msg


def ticket_close(*, ticket: Ticket) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Ticket.Status.CLOSED, updated_at=timezone.now()
    )
