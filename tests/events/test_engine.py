"""The events engine: outbox, claim, once per (handler, event), batches,
loop guard, rate breaker, event types."""

import pytest
from django.db import transaction

from contacts import services as contact_services
from contacts.models import Group
from events import services
from events.models import Event, Run
from messaging.models import Campaign, Message

pytestmark = pytest.mark.django_db


def welcome(account, *, group=None, **extra):
    conditions = (
        [{"field": "group", "op": "eq", "value": str(group.pk)}] if group else []
    )
    return services.handler_save(
        account=account,
        kind="contact_added",
        name="Приветствие",
        conditions=conditions,
        actions=[
            {"kind": "sms_contact", "config": {"text": "Привет, [Имя]!", "sender": ""}}
        ],
        **extra,
    )


def add_contact(account, group, phone="+79161234567", name="Иван", source="manual"):
    with transaction.atomic():
        return contact_services.contact_create(
            account=account,
            group=group,
            data={"phone": phone, "first_name": name},
            source=source,
        )


def test_contact_added_sends_welcome_sms_once(user):
    account = user.account
    group = Group.objects.create(account=account, name="Клиенты")
    handler = welcome(account, group=group)
    add_contact(account, group)
    run = Run.objects.get(handler=handler)
    assert run.outcome == Run.Outcome.OK, run.results
    campaign = Campaign.objects.get(account=account, source="event")
    message = Message.objects.get(campaign=campaign)
    assert message.phone == "+79161234567"
    assert message.text == "Привет, Иван!"
    assert run.cost == campaign.cost > 0
    assert "добавлен (вручную)" in run.trigger
    assert Event.objects.get().state == Event.State.DONE
    # Processing again changes nothing: once per (handler, event).
    Event.objects.update(state=Event.State.PENDING)
    services.events_process()
    assert Run.objects.count() == 1
    assert Campaign.objects.filter(source="event").count() == 1
