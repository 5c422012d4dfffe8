from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contacts.models import Contact, Group
from messaging import scheduling
from messaging.models import Campaign, Schedule
from messaging.scheduling import Rule, next_after, occurrences

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")

AUTUMN = Rule.build(
    months=[9, 10, 11],
    days=range(1, 32, 2),
    weekdays=[3, 4],
    hours=[12, 14],
    minutes=[0],
)
# Odd days of September–November 2026 that fall on a Wednesday or Thursday.
AUTUMN_2026_DAYS = [
    "09-03",
    "09-09",
    "09-17",
    "09-23",
    "10-01",
    "10-07",
    "10-15",
    "10-21",
    "10-29",
    "11-05",
    "11-11",
    "11-19",
    "11-25",
]


def test_the_manuals_autumn_example_for_a_whole_year():
    start = datetime(2026, 1, 1, tzinfo=MSK) - timedelta(seconds=1)
    end = datetime(2026, 12, 31, 23, 59, tzinfo=MSK)
    got = [
        t.strftime("%m-%d %H:%M")
        for t in occurrences(AUTUMN, start=start, end=end, tz="Europe/Moscow")
    ]
    expected = [
        f"{day} {hour}" for day in AUTUMN_2026_DAYS for hour in ("12:00", "14:00")
    ]
    assert got == expected
    assert len(got) == 26
    for t in occurrences(AUTUMN, start=start, end=end, tz="Europe/Moscow"):
        assert t.isoweekday() in (3, 4) and t.day % 2 == 1 and t.month in (9, 10, 11)


def test_next_after_walks_from_one_time_to_the_next():
    t = datetime(2026, 1, 1, tzinfo=MSK)
    seen = []
    for _ in range(4):
        t = next_after(AUTUMN, t, "Europe/Moscow")
        seen.append(t.strftime("%m-%d %H:%M"))
    assert seen == ["09-03 12:00", "09-03 14:00", "09-09 12:00", "09-09 14:00"]
    after_season = next_after(
        AUTUMN, datetime(2026, 11, 25, 14, 0, tzinfo=MSK), "Europe/Moscow"
    )
    assert after_season.strftime("%Y-%m-%d %H:%M") == "2027-09-01 12:00"  # a Wednesday


def test_the_schedule_time_zone_is_honoured():
    rule = Rule.build(hours=[9], minutes=[30])
    at = next_after(rule, datetime(2026, 3, 1, tzinfo=UTC), "Asia/Vladivostok")
    assert at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") == "2026-03-01 23:30"


def test_impossible_and_bad_rules_are_explained():
    with pytest.raises(scheduling.InvalidRule):
        Rule.build(minutes=[])
    with pytest.raises(scheduling.InvalidRule):
        Rule.build(months=[13], minutes=[0])
    never = Rule.build(months=[2], days=[30], minutes=[0])
    assert next_after(never, datetime(2026, 1, 1, tzinfo=UTC), "Europe/Moscow") is None
    assert scheduling.describe(AUTUMN) == (
        "в сентябре, октябре, ноябре, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, "
        "27, 29, 31 числа, если этот день выпадает на среду, четверг, в 12:00, 14:00"
    )


def _schedule(user, **kw):
    rule = Rule.build(hours=[12], minutes=[0])
    return scheduling.schedule_upsert(
        account=user.account,
        user=user,
        schedule=None,
        name="Каждый день",
        payload={"text": "Напоминание", "phones": ["+79161234567"], "options": {}},
        timezone="Europe/Moscow",
        rule=rule,
        **kw,
    )


def test_a_due_schedule_launches_exactly_once_per_due_time(user):
    schedule = _schedule(user)
    due = schedule.next_run_at
    assert scheduling.schedules_run_due(now=due - timedelta(seconds=1)) == 0
    assert scheduling.schedules_run_due(now=due + timedelta(seconds=5)) == 1
    assert scheduling.schedules_run_due(now=due + timedelta(seconds=30)) == 0
    campaign = Campaign.objects.get()
    assert campaign.source == "scheduler" and campaign.text == "Напоминание"
    assert campaign.client_id.startswith(f"schedule:{schedule.pk}:")
    schedule.refresh_from_db()
    assert schedule.last_run_at == due and schedule.runs == 1
    assert schedule.next_run_at == due + timedelta(days=1)
    # A replay of the same due time (a retried task) returns the same campaign.
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=due)
    scheduling.schedules_run_due(now=due + timedelta(seconds=40))
    assert Campaign.objects.count() == 1


def test_a_long_missed_time_is_skipped_not_sent_late(user):
    schedule = _schedule(user)
    late = schedule.next_run_at + timedelta(hours=3)
    assert scheduling.schedules_run_due(now=late) == 0
    assert not Campaign.objects.exists()
    schedule.refresh_from_db()
    assert schedule.next_run_at > late


def test_a_failed_launch_notifies_and_moves_on(make_user):
    from cabinet.models import Notification

    poor = make_user(balance=0)
    schedule = _schedule(poor)
    due = schedule.next_run_at
    assert scheduling.schedules_run_due(now=due) == 0
    schedule.refresh_from_db()
    assert "Недостаточно средств" in schedule.last_error
    assert schedule.next_run_at > due
    assert Notification.objects.filter(account=poor.account).exists()


def test_paused_schedules_do_not_run(user):
    schedule = _schedule(user)
    scheduling.schedule_toggle(schedule=schedule)
    assert (
        scheduling.schedules_run_due(now=schedule.next_run_at + timedelta(seconds=1))
        == 0
    )


def test_the_periodic_task_runs_due_schedules(user):
    schedule = _schedule(user)
    Schedule.objects.filter(pk=schedule.pk).update(
        next_run_at=datetime.now(UTC) - timedelta(seconds=5)
    )
    scheduling.run_due.delay()
    assert Campaign.objects.filter(source="scheduler").count() == 1


def test_the_scheduler_page_creates_a_schedule_from_the_form(client_for, user):
    group = Group.objects.create(account=user.account, name="Клиенты")
    Contact.objects.create(account=user.account, group=group, phone="+79161234567")
    client = client_for(user)
    resp = client.post(
        "/sms/scheduler/new/",
        {
            "name": "Осень",
            "text": "Осенняя распродажа",
            "groups": [str(group.pk)],
            "months": ["9", "10", "11"],
            "days": [str(d) for d in range(1, 32, 2)],
            "weekdays": ["3", "4"],
            "hours": ["12", "14"],
            "minutes": ["0"],
            "timezone": "Europe/Moscow",
        },
    )
    assert resp.status_code == 302, resp.content.decode()
    schedule = Schedule.objects.get()
    assert schedule.months == [9, 10, 11] and schedule.weekdays == [3, 4]
    assert schedule.payload["group_ids"] == [group.pk]
    page = client.get("/sms/scheduler/").content.decode()
    assert "Осень" in page and "выпадает на среду, четверг" in page
    edit = client.get(f"/sms/scheduler/{schedule.pk}/").content.decode()
    assert "Осенняя распродажа" in edit


def test_the_scheduler_form_explains_missing_times(client_for, user):
    resp = client_for(user).post(
        "/sms/scheduler/new/",
        {
            "text": "x",
            "phones": "+79161234567",
            "minutes": [],
            "hours": [],
            "timezone": "Europe/Moscow",
        },
    )
    assert resp.status_code == 200
    assert "Выберите минуты" in resp.content.decode()
    assert not Schedule.objects.exists()


def test_foreign_schedules_are_404(client_for, user, other_user):
    schedule = _schedule(other_user)
    client = client_for(user)
    assert client.get(f"/sms/scheduler/{schedule.pk}/").status_code == 404
    assert client.post(f"/sms/scheduler/{schedule.pk}/toggle/").status_code == 404
    assert client.post(f"/sms/scheduler/{schedule.pk}/delete/").status_code == 404
    assert "Каждый день" not in client.get("/sms/scheduler/").content.decode()
    assert Schedule.objects.filter(pk=schedule.pk, is_active=True).exists()
