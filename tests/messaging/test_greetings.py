from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from contacts.models import Contact, CustomField, Group
from messaging import greetings
from messaging.models import Campaign, Greeting

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def base(user):
    group = Group.objects.create(account=user.account, name="Клиенты")
    CustomField.objects.create(
        account=user.account, key="visit", name="Дата визита", kind="date"
    )
    make = Contact.objects.create
    make(
        account=user.account,
        group=group,
        phone="+79161234567",
        first_name="Иван",
        gender="m",
        birth_date=date(1990, 3, 15),
    )
    make(
        account=user.account,
        group=group,
        phone="+79031112233",
        first_name="Мария",
        gender="f",
        birth_date=date(1985, 3, 15),
        extra={"visit": "2024-07-01"},
    )
    make(
        account=user.account,
        group=group,
        phone="+79261112233",
        first_name="Олег",
        birth_date=date(1992, 2, 29),
        extra={"visit": "01.07.2023"},
    )
    make(
        account=user.account,
        group=group,
        phone="+79851112233",
        first_name="Анна",
        birth_date=date(1990, 3, 16),
    )
    return group


def _greeting(user, group, **kw):
    return greetings.greeting_upsert(
        account=user.account,
        user=user,
        greeting=None,
        occasion="День рождения",
        date_field=kw.pop("date_field", "birth_date"),
        send_time=time(10, 0),
        timezone="Europe/Moscow",
        payload={
            "text": "[Уважаемый] [Имя], с днем рождения!",
            "group_ids": [group.pk],
            "filters": {},
            "phones": [],
            "options": {},
        },
    )


def test_birthdays_of_the_day_get_personal_greetings(user, base):
    greeting = _greeting(user, base)
    due = datetime(2026, 3, 15, 10, 0, tzinfo=MSK)
    Greeting.objects.filter(pk=greeting.pk).update(next_run_at=due)
    assert greetings.greetings_run_due(now=due + timedelta(seconds=3)) == 1
    campaign = Campaign.objects.get()
    assert campaign.source == "greeting"
    assert campaign.client_id == f"greeting:{greeting.pk}:2026-03-15"
    assert dict(campaign.messages.values_list("phone", "text")) == {
        "+79161234567": "Уважаемый Иван, с днем рождения!",
        "+79031112233": "Уважаемая Мария, с днем рождения!",
    }
    greeting.refresh_from_db()
    assert greeting.next_run_at == due + timedelta(days=1)
    # Running again for the same day changes nothing.
    Greeting.objects.filter(pk=greeting.pk).update(next_run_at=due)
    greetings.greetings_run_due(now=due + timedelta(seconds=30))
    assert Campaign.objects.count() == 1


def test_leap_day_birthdays_are_greeted_on_the_28th(user, base):
    assert greetings.days_celebrated(date(2027, 2, 28)) == {(2, 28), (2, 29)}
    assert greetings.days_celebrated(date(2028, 2, 28)) == {(2, 28)}
    greeting = _greeting(user, base)
    people = greetings.greeting_audience(greeting=greeting, day=date(2027, 2, 28))
    assert [p["phone"] for p in people] == ["+79261112233"]


def test_a_custom_date_field_in_any_usual_format(user, base):
    greeting = _greeting(user, base, date_field="visit")
    people = greetings.greeting_audience(greeting=greeting, day=date(2026, 7, 1))
    assert sorted(p["phone"] for p in people) == ["+79031112233", "+79261112233"]


def test_no_birthdays_no_campaign(user, base):
    greeting = _greeting(user, base)
    due = datetime(2026, 1, 10, 10, 0, tzinfo=MSK)
    Greeting.objects.filter(pk=greeting.pk).update(next_run_at=due)
    assert greetings.greetings_run_due(now=due) == 0
    assert not Campaign.objects.exists()


def test_the_greetings_page_creates_with_the_occasion(client_for, user, base):
    client = client_for(user)
    assert "Повод для рассылки" in client.get("/sms/greetings/new/").content.decode()
    resp = client.post(
        "/sms/greetings/new/",
        {
            "occasion": "День рождения",
            "text": "С днем рождения, [Имя]!",
            "groups": [str(base.pk)],
            "date_field": "birth_date",
            "greet_time": "09:30",
            "timezone": "Asia/Yekaterinburg",
        },
    )
    assert resp.status_code == 302, resp.content.decode()
    greeting = Greeting.objects.get()
    assert (
        greeting.send_time == time(9, 30) and greeting.timezone == "Asia/Yekaterinburg"
    )
    local = greeting.next_run_at.astimezone(ZoneInfo("Asia/Yekaterinburg"))
    assert local.strftime("%H:%M") == "09:30"
    assert "День рождения" in client.get("/sms/greetings/").content.decode()


def test_a_greeting_needs_a_group(client_for, user):
    resp = client_for(user).post(
        "/sms/greetings/new/",
        {
            "occasion": "ДР",
            "text": "x",
            "phones": "+79161234567",
            "date_field": "birth_date",
            "greet_time": "09:30",
            "timezone": "Europe/Moscow",
        },
    )
    assert resp.status_code == 200 and not Greeting.objects.exists()


def test_foreign_greetings_are_404(client_for, user, other_user):
    group = Group.objects.create(account=other_user.account, name="g")
    greeting = _greeting(other_user, group)
    client = client_for(user)
    assert client.get(f"/sms/greetings/{greeting.pk}/").status_code == 404
    assert client.post(f"/sms/greetings/{greeting.pk}/delete/").status_code == 404
    assert Greeting.objects.filter(pk=greeting.pk).exists()
