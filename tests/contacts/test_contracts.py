"""The functions other apps code against: blocked_phones, audience_iter,
audience_count, groups_owned, group_add_phones, custom_fields."""

import datetime as dt

import pytest

from contacts import selectors, services
from contacts.models import Contact, CustomField, Group, StopNumber, Unsubscribe

pytestmark = pytest.mark.django_db


def test_blocked_phones_joins_stoplist_numbers_groups_and_unsubscribes(
    user, other_user, make_group, make_contact
):
    acc = user.account
    StopNumber.objects.create(account=acc, phone="+79161110001")
    stop_group = make_group(acc, "Стоп", is_stoplist=True)
    make_contact(stop_group, "+79161110002")
    deleted_stop = make_group(acc, "Старый стоп", is_stoplist=True)
    make_contact(deleted_stop, "+79161110003")
    Group.objects.filter(pk=deleted_stop.pk).update(
        deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    Unsubscribe.objects.create(
        account=acc, phone="+79161110004", channel="sms", sender="Shop"
    )
    Unsubscribe.objects.create(
        account=acc, phone="+79161110005", channel="viber", sender="Shop"
    )
    StopNumber.objects.create(account=other_user.account, phone="+79161110006")
    blocked = selectors.blocked_phones(account_id=acc.pk, channel="sms", sender="Shop")
    assert blocked == {"+79161110001", "+79161110002", "+79161110004"}
    assert selectors.blocked_phones(
        account_id=acc.pk, channel="sms", sender="Other"
    ) == {"+79161110001", "+79161110002"}
    assert selectors.blocked_phones(
        account_id=acc.pk,
        channel="sms",
        sender="Shop",
        phones=["+79161110002", "+79169999999"],
    ) == {"+79161110002"}


def test_audience_iter_streams_own_live_groups_in_id_order_with_filters(
    user, other_user, make_group, make_contact, django_assert_max_num_queries
):
    acc = user.account
    CustomField.objects.create(account=acc, key="card", name="Карта")
    a, b = make_group(acc, "A"), make_group(acc, "B")
    foreign = make_group(other_user.account, "F")
    c1 = make_contact(
        a,
        "89161234567",
        first_name="Анна",
        gender="f",
        birth_date=dt.date(1990, 5, 1),
        extra={"card": "42"},
    )
    c2 = make_contact(b, "+79161234567", first_name="Анна")
    c3 = make_contact(b, "+79031234567", first_name="Олег", gender="m")
    make_contact(foreign, "+79035555555")
    with django_assert_max_num_queries(4):
        chunks = list(
            selectors.audience_iter(
                account_id=acc.pk, group_ids=[a.pk, b.pk, foreign.pk], chunk_size=2
            )
        )
    assert [len(c) for c in chunks] == [2, 1]
    rows = [r for c in chunks for r in c]
    assert [r["contact_id"] for r in rows] == [c1.pk, c2.pk, c3.pk]
    assert rows[0]["phone"] == "+79161234567"
    assert rows[0]["extra"] == {"card": "42"}
    assert rows[0]["birth_date"] == dt.date(1990, 5, 1)
    assert set(rows[0]) == set(selectors.AUDIENCE_KEYS)
    assert rows[0]["operator"] == "МТС"
    only_f = [
        r
        for c in selectors.audience_iter(
            account_id=acc.pk, group_ids=[a.pk, b.pk], filters={"gender": "f"}
        )
        for r in c
    ]
    assert [r["contact_id"] for r in only_f] == [c1.pk]
    card = [
        r
        for c in selectors.audience_iter(
            account_id=acc.pk, group_ids=[a.pk, b.pk], filters={"extra": {"card": "42"}}
        )
        for r in c
    ]
    assert [r["contact_id"] for r in card] == [c1.pk]
    assert selectors.audience_count(account_id=acc.pk, group_ids=[a.pk, b.pk]) == 3
    assert (
        selectors.audience_count(
            account_id=acc.pk, group_ids=[a.pk, b.pk], filters={"q": "Анна"}
        )
        == 2
    )
    assert selectors.audience_count(account_id=acc.pk, group_ids=[foreign.pk]) == 0


def test_groups_owned_rejects_a_foreign_or_deleted_group(user, other_user, make_group):
    mine = make_group(user.account)
    foreign = make_group(other_user.account)
    assert selectors.groups_owned(account_id=user.account.pk, group_ids=[mine.pk]) == [
        mine
    ]
    with pytest.raises(Group.DoesNotExist):
        selectors.groups_owned(
            account_id=user.account.pk, group_ids=[mine.pk, foreign.pk]
        )
    services.groups_delete(account_id=user.account.pk, group_ids=[mine.pk])
    with pytest.raises(Group.DoesNotExist):
        selectors.groups_owned(account_id=user.account.pk, group_ids=[mine.pk])


def test_group_add_phones_skips_existing_and_can_remove_from_other_groups(
    user, other_user, make_group, make_contact
):
    acc = user.account
    target = make_group(acc, "Доставлено")
    other = make_group(acc, "Другая")
    make_contact(target, "+79161234567")
    make_contact(other, "+79031234567")
    group = services.group_add_phones(
        account_id=acc.pk,
        group_id=target.pk,
        phones=["+79161234567", "+79031234567"],
        remove_from_other_groups=True,
    )
    assert group == target
    assert sorted(target.contacts.values_list("phone", flat=True)) == [
        "+79031234567",
        "+79161234567",
    ]
    assert not other.contacts.exists()
    target.refresh_from_db()
    other.refresh_from_db()
    assert (target.size, other.size) == (2, 0)
    new = services.group_add_phones(
        account_id=acc.pk, phones=["+79161234567"], new_group_name="Новая"
    )
    assert new.name == "Новая" and new.size == 1
    assert Contact.objects.get(group=new).operator == "МТС"
    with pytest.raises(Group.DoesNotExist):
        services.group_add_phones(
            account_id=other_user.account.pk,
            group_id=target.pk,
            phones=["+79161234567"],
        )


def test_custom_fields_lists_the_accounts_fields(user, other_user):
    services.custom_field_create(account=user.account, name="Номер карты", key="card")
    services.custom_field_create(account=user.account, name="Сумма бонусов")
    services.custom_field_create(account=other_user.account, name="Чужое", key="x")
    fields = selectors.custom_fields(account_id=user.account.pk)
    assert [(f.key, f.name) for f in fields] == [
        ("card", "Номер карты"),
        ("summa_bonusov", "Сумма бонусов"),
    ]
