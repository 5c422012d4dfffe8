"""C9 trash purge, C10 cleanup (undelivered history, duplicates, several
groups), C13 numbering-plan loading."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from contacts import phones, selectors, services, tasks
from contacts.models import Contact, Group, NumberingPlanRange, StopNumber

pytestmark = pytest.mark.django_db


def messages(account, phone, statuses):
    from messaging.models import Campaign, Message

    campaign = Campaign.objects.create(account=account)
    start = timezone.now() - dt.timedelta(days=10)
    Message.objects.bulk_create(
        [
            Message(
                account=account,
                campaign=campaign,
                phone=phone,
                status=status,
                created_at=start + dt.timedelta(hours=i),
            )
            for i, status in enumerate(statuses)
        ]
    )


@pytest.fixture
def history(user, make_group, make_contact):
    group = make_group(user.account, "База")
    for phone in ("+79160000001", "+79160000002", "+79160000003"):
        make_contact(group, phone)
    acc = user.account
    # 1: the last three failed; 2: delivered most recently; 3: only two messages.
    messages(acc, "+79160000001", ["delivered", "undelivered", "expired", "failed"])
    messages(
        acc, "+79160000002", ["undelivered", "undelivered", "undelivered", "delivered"]
    )
    messages(acc, "+79160000003", ["undelivered", "undelivered"])
    return group


def test_undelivered_history_finds_numbers_whose_last_n_failed(user, history):
    assert selectors.undelivered_candidates(account_id=user.account.pk, last_n=3) == [
        "+79160000001"
    ]
    assert selectors.undelivered_candidates(account_id=user.account.pk, last_n=2) == [
        "+79160000001",
        "+79160000003",
    ]


@pytest.mark.parametrize("action", ["trash", "move", "stoplist"])
def test_cleanup_by_undelivered_history_acts_on_those_numbers(
    user, history, make_group, action
):
    target = make_group(user.account, "Недоставленные")
    n = services.cleanup_undelivered(
        account=user.account, last_n=3, action=action, target_group_id=target.pk
    )
    assert n == 1
    in_base = set(history.contacts.values_list("phone", flat=True))
    if action == "stoplist":
        assert StopNumber.objects.filter(phone="+79160000001").exists()
        assert "+79160000001" in in_base
    else:
        assert "+79160000001" not in in_base
    if action == "move":
        assert list(target.contacts.values_list("phone", flat=True)) == ["+79160000001"]


def test_the_cleanup_page_previews_then_acts(client_for, user, history):
    web = client_for(user)
    url = reverse("contacts:cleanup")
    page = web.post(url, {"form": "undelivered", "last_n": 3, "action": "trash"})
    assert "+79160000001" in page.content.decode()
    assert history.contacts.count() == 3
    web.post(
        url, {"form": "undelivered", "last_n": 3, "action": "trash", "confirm": "1"}
    )
    assert history.contacts.count() == 2
    response = web.post(url, {"form": "undelivered", "last_n": 3, "action": "move"})
    assert "Выберите группу" in response.content.decode()


def test_duplicates_across_groups_keep_the_first_contact(
    user, other_user, make_group, make_contact
):
    a, b, c = (make_group(user.account, n) for n in "ABC")
    first = make_contact(a, "+79161234567", first_name="Анна")
    make_contact(b, "+79161234567", first_name="Анна")
    make_contact(c, "+79161234567", first_name="Аня")
    make_contact(b, "+79031234567", first_name="Анна")
    make_contact(make_group(other_user.account), "+79161234567")
    assert (
        services.cleanup_duplicates(
            account_id=user.account.pk, fields=["phone", "first_name"]
        )
        == 1
    )
    assert (
        services.cleanup_duplicates(account_id=user.account.pk, fields=["phone"]) == 1
    )
    assert list(
        Contact.objects.filter(account=user.account, phone="+79161234567").values_list(
            "pk", flat=True
        )
    ) == [first.pk]
    assert Contact.objects.filter(account=other_user.account).count() == 1
    b.refresh_from_db()
    assert b.size == 1


def test_several_groups_go_to_the_trash_and_are_purged_after_retention(
    client_for, user, make_group, make_contact, settings
):
    a, b = make_group(user.account, "A"), make_group(user.account, "B")
    make_contact(a, "+79161234567")
    web = client_for(user)
    web.post(
        reverse("contacts:cleanup"), {"form": "groups", "del-groups": [a.pk, b.pk]}
    )
    assert Group.objects.filter(deleted_at__isnull=False).count() == 2
    settings.CONTACTS_TRASH_RETENTION_DAYS = 30
    assert tasks.trash_purge() == 0
    Group.objects.filter(pk=a.pk).update(
        deleted_at=timezone.now() - dt.timedelta(days=31)
    )
    assert tasks.trash_purge() == 1
    assert not Group.objects.filter(pk=a.pk).exists()
    assert not Contact.objects.filter(group_id=a.pk).exists()
    assert Group.objects.filter(pk=b.pk).exists()


def test_load_numbering_plan_replaces_the_bundled_table(tmp_path):
    path = tmp_path / "DEF-9xx.csv"
    path.write_text(
        "АВС/ DEF;От;До;Емкость;Оператор;Регион;Территория ГАР;ИНН\n"
        '916;0000000;9999999;10000000;ПАО "Вымпел-Коммуникации";г. Санкт-Петербург;'
        "г. Санкт-Петербург;7713076301\n",
        encoding="cp1251",
    )
    assert services.derived("+79161234567")["operator"] == "МТС"
    call_command("load_numbering_plan", str(path))
    assert NumberingPlanRange.objects.count() == 1
    info = services.derived("+79161234567")
    assert info["operator"] == "Билайн" and info["region"] == "г. Санкт-Петербург"
    # Another process starts with the bundled plan and picks the table up.
    phones.set_plan(None)
    from contacts import plan

    plan.reset()
    assert services.derived("+79161234567")["operator"] == "Билайн"
    bad = tmp_path / "bad.csv"
    bad.write_text("hello;world\n")
    with pytest.raises(CommandError):
        call_command("load_numbering_plan", str(bad))
    assert NumberingPlanRange.objects.count() == 1
