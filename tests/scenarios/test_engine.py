"""The engine per recipient: a step's success stops the chain, a final
failure or the decision time moves on at once, each step at most once, late
receipts kept and marked."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging.models import Campaign, GatewaySubmission, Message
from messaging.models import MessageStatus as S
from scenarios import engine, selectors
from scenarios.models import Hop, Run
from scenarios.services import run_launch

pytestmark = pytest.mark.django_db

NOT_VIBER = "+79161230005"  # the fake Viber: not a Viber user; SMS delivers
NOBODY = "+79160000000"  # undelivered on every channel
VIBER_OK = "+79161234444"  # delivered and seen on Viber


def hops(run):
    return {(h.phone, h.step): h for h in Hop.objects.filter(run=run)}


def test_viber_success_stops_the_chain_and_a_failure_falls_back_to_sms(user, viber_sms):
    run = run_launch(
        account=user.account, scenario=viber_sms, phones=[NOT_VIBER, VIBER_OK]
    )
    run.refresh_from_db()
    h = hops(run)
    assert h[(VIBER_OK, 0)].state == Hop.State.SUCCESS
    assert (VIBER_OK, 1) not in h
    assert h[(NOT_VIBER, 0)].state == Hop.State.MOVED
    assert h[(NOT_VIBER, 1)].state == Hop.State.SUCCESS
    subs = list(GatewaySubmission.objects.values_list("channel", "phone"))
    assert sorted(subs) == sorted(
        [("viber", NOT_VIBER), ("viber", VIBER_OK), ("sms", NOT_VIBER)]
    )
    assert run.status == Run.Status.DONE
    assert set(
        Campaign.objects.filter(account=user.account).values_list("source", flat=True)
    ) == {"scenario"}
    report = selectors.run_report(run)
    assert [r.sent for r in report.steps] == [2, 1]
    assert [r.success for r in report.steps] == [1, 1]
    assert [r.moved for r in report.steps] == [1, 0]
    assert report.delivered == 2
    assert report.cost > 0
    assert report.sms_only > 0


def test_a_recipient_no_channel_reaches_ends_failed_after_the_last_step(
    user, viber_sms
):
    run = run_launch(account=user.account, scenario=viber_sms, phones=[NOBODY])
    h = hops(run)
    assert h[(NOBODY, 0)].state == Hop.State.MOVED
    assert h[(NOBODY, 1)].state == Hop.State.FAILED
    assert GatewaySubmission.objects.count() == 2
    report = selectors.run_report(run)
    assert report.not_delivered == 1
    # Undelivered messages reached the carrier: charged per tariff.
    assert report.cost == report.steps[0].cost + report.steps[1].cost > 0


def test_the_decision_time_moves_on_without_a_final_status(user, viber_sms, settings):
    settings.MESSAGING_GATEWAYS = {
        **settings.MESSAGING_GATEWAYS,
        "viber": {
            **settings.MESSAGING_GATEWAYS["viber"],
            "OPTIONS": {"mode": "manual"},
        },
    }
    from messaging import registry

    registry.reset_gateways()
    run = run_launch(account=user.account, scenario=viber_sms, phones=[VIBER_OK])
    hop = Hop.objects.get(run=run, step=0)
    assert hop.state == Hop.State.WAITING
    assert Message.objects.get(pk=hop.message_id).status == S.SENT
    # Nothing happens before the decision time…
    assert engine.sweep() == 0
    assert hop.decide_at >= timezone.now() + timedelta(seconds=590)
    # …and at it the recipient moves to SMS at once.
    Hop.objects.filter(pk=hop.pk).update(
        decide_at=timezone.now() - timedelta(seconds=1)
    )
    engine.sweep()
    h = hops(run)
    assert h[(VIBER_OK, 0)].state == Hop.State.MOVED
    assert h[(VIBER_OK, 1)].state == Hop.State.SUCCESS
    # The Viber receipt still comes: kept, charged, shown as late.
    registry.get_gateway("viber").flush()
    h = hops(run)
    assert h[(VIBER_OK, 0)].late
    assert Message.objects.get(pk=h[(VIBER_OK, 0)].message_id).status in (
        S.DELIVERED,
        S.VIEWED,
    )
    assert selectors.run_report(run).late == 1
    # Sweeping again sends nothing twice.
    engine.sweep()
    assert GatewaySubmission.objects.filter(phone=VIBER_OK).count() == 2


def test_the_ttl_of_a_step_is_its_decision_time_at_most(user, viber_sms):
    assert viber_sms.steps[0]["options"]["ttl"] == 600
    run = run_launch(account=user.account, scenario=viber_sms, phones=[VIBER_OK])
    message = Message.objects.get(pk=Hop.objects.get(run=run, step=0).message_id)
    assert message.expires_at - message.send_at == timedelta(seconds=600)


def test_a_number_unsubscribed_from_viber_skips_the_viber_step(user, viber_sms):
    from contacts.models import Unsubscribe

    Unsubscribe.objects.create(
        account=user.account,
        phone=NOT_VIBER,
        channel="viber",
        sender=viber_sms.steps[0]["sender"],
    )
    run = run_launch(account=user.account, scenario=viber_sms, phones=[NOT_VIBER])
    h = hops(run)
    assert h[(NOT_VIBER, 0)].state == Hop.State.EXCLUDED
    assert h[(NOT_VIBER, 0)].message_id is None
    assert h[(NOT_VIBER, 1)].state == Hop.State.SUCCESS
    assert not GatewaySubmission.objects.filter(channel="viber").exists()


def test_a_later_launch_waits_for_its_time(user, viber_sms):
    run = run_launch(
        account=user.account,
        scenario=viber_sms,
        phones=[VIBER_OK],
        send_at=timezone.now() + timedelta(hours=1),
    )
    assert run.status == Run.Status.SCHEDULED
    assert engine.sweep() == 0
    assert not GatewaySubmission.objects.exists()
    Hop.objects.filter(run=run).update(decide_at=timezone.now())
    engine.sweep()
    run.refresh_from_db()
    assert run.status == Run.Status.DONE
    assert GatewaySubmission.objects.count() == 1


def test_costs_before_launch(user, viber_sms):
    from scenarios.services import estimate

    est = estimate(
        account=user.account, steps=viber_sms.steps, phones=[VIBER_OK, NOT_VIBER]
    )
    assert est.worst == sum((q.total for _l, q in est.steps), Decimal("0"))
    assert est.expected < est.worst
    assert est.sms_only > 0


def test_a_steps_window_defers_it_and_the_decision_time_starts_then(user):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from scenarios.services import scenario_save

    local = datetime.now(ZoneInfo("Europe/Moscow"))
    start = (local + timedelta(hours=2)).strftime("%H:%M")
    end = (local + timedelta(hours=3)).strftime("%H:%M")
    steps = [
        {
            "channel": "viber",
            "text": "Скидка",
            "decision": 600,
            "options": {"window": {"from": start, "to": end}},
        },
        {"channel": "sms", "text": "Скидка", "decision": 600},
    ]
    scenario = scenario_save(account=user.account, name="Окно", steps=steps)
    run = run_launch(account=user.account, scenario=scenario, phones=[VIBER_OK])
    hop = Hop.objects.get(run=run, step=0)
    message = Message.objects.get(pk=hop.message_id)
    assert message.status == S.DEFERRED
    assert message.send_at > timezone.now() + timedelta(minutes=90)
    assert hop.decide_at == message.send_at + timedelta(seconds=600)
    assert not GatewaySubmission.objects.exists()


def test_contact_substitutions_are_rendered_in_every_step(user):
    """A run launched on a group speaks to each contact by name, as a campaign
    to the same group does, in every step."""
    from contacts.models import Contact, Group
    from scenarios.services import scenario_save

    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(
        account=user.account, group=group, phone=NOT_VIBER, first_name="Анна"
    )
    Contact.objects.create(account=user.account, group=group, phone=NOBODY)
    scenario = scenario_save(
        account=user.account,
        name="По имени",
        steps=[
            {"channel": "viber", "text": "[Имя], скидка для вас", "decision": 600},
            {"channel": "sms", "text": "[Имя], скидка для вас", "decision": 600},
        ],
    )
    run_launch(account=user.account, scenario=scenario, group_ids=[group.pk])
    texts = set(Message.objects.values_list("channel", "phone", "text"))
    assert texts == {
        ("viber", NOT_VIBER, "Анна, скидка для вас"),
        ("sms", NOT_VIBER, "Анна, скидка для вас"),
        ("viber", NOBODY, ", скидка для вас"),
        ("sms", NOBODY, ", скидка для вас"),
    }
