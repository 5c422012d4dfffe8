import pytest
from django.core import mail
from django.urls import reverse

from cabinet.models import Notification, Ticket, TicketMessage, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_user(db):
    return User.objects.create_superuser(
        email="support@example.com", password="staff-pass-1"
    )


def test_client_creates_a_ticket_and_gets_an_email_copy(client_for, user):
    client = client_for(user)
    resp = client.post(
        reverse("cabinet:support"),
        {"subject": "Не доходят СМС", "body": "На МТС не доходят"},
    )
    ticket = Ticket.objects.get()
    assert resp["Location"] == reverse("cabinet:support_ticket", args=[ticket.pk])
    assert ticket.account_id == user.account_id and ticket.status == "open"
    assert [m.to for m in mail.outbox] == [[user.email], ["support@localhost"]]
    html = client.get(resp["Location"]).content.decode()
    assert "На МТС не доходят" in html


def test_staff_reply_from_the_admin_reaches_the_thread_notifications_and_email(
    client, client_for, user, staff_user
):
    client_for(user).post(
        reverse("cabinet:support"), {"subject": "Вопрос", "body": "Текст"}
    )
    ticket = Ticket.objects.get()
    mail.outbox.clear()
    client.force_login(staff_user)
    first = ticket.messages.get()
    resp = client.post(
        reverse("admin:cabinet_ticket_change", args=[ticket.pk]),
        {
            "status": "open",
            "reply": "Проверили, всё работает.",
            "messages-TOTAL_FORMS": "1",
            "messages-INITIAL_FORMS": "1",
            "messages-MIN_NUM_FORMS": "0",
            "messages-MAX_NUM_FORMS": "1000",
            "messages-0-id": first.pk,
            "messages-0-ticket": ticket.pk,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    ticket.refresh_from_db()
    assert ticket.status == "answered"
    reply = TicketMessage.objects.get(is_staff_reply=True)
    assert reply.body == "Проверили, всё работает." and reply.author == staff_user
    assert (
        Notification.objects.filter(account_id=user.account_id, kind="support").count()
        == 1
    )
    assert (
        mail.outbox[0].to == [user.email]
        and "Ответ техподдержки" in mail.outbox[0].subject
    )
    client.force_login(user)
    html = client.get(
        reverse("cabinet:support_ticket", args=[ticket.pk])
    ).content.decode()
    assert "Проверили, всё работает." in html and "Техподдержка" in html


def test_client_replies_and_closes(client_for, user):
    client = client_for(user)
    client.post(reverse("cabinet:support"), {"subject": "Вопрос", "body": "1"})
    ticket = Ticket.objects.get()
    client.post(reverse("cabinet:support_ticket", args=[ticket.pk]), {"body": "2"})
    assert ticket.messages.count() == 2
    client.post(reverse("cabinet:support_ticket", args=[ticket.pk]), {"close": "1"})
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_empty_ticket_is_refused(client_for, user):
    resp = client_for(user).post(
        reverse("cabinet:support"), {"subject": "", "body": ""}
    )
    assert resp.status_code == 400 and "Обязательное поле" in resp.content.decode()
    assert not Ticket.objects.exists()


def test_foreign_ticket_is_404(client_for, user, other_user):
    client_for(other_user).post(
        reverse("cabinet:support"), {"subject": "Чужой", "body": "x"}
    )
    ticket = Ticket.objects.get()
    client = client_for(user)
    assert (
        client.get(reverse("cabinet:support_ticket", args=[ticket.pk])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("cabinet:support_ticket", args=[ticket.pk]), {"body": "hi"}
        ).status_code
        == 404
    )
    assert "Чужой" not in client.get(reverse("cabinet:support")).content.decode()


def test_ticket_list_query_count_is_fixed(
    client_for, user, django_assert_max_num_queries
):
    from cabinet.support import ticket_create

    for i in range(25):
        ticket_create(account=user.account, author=user, subject=f"t{i}", body="b")
    client = client_for(user)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("cabinet:support")).status_code == 200
