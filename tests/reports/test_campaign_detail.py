import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from contacts.models import Contact, Group
from messaging.models import Message
from tests.reports.conftest import phones

pytestmark = pytest.mark.django_db


def sheet(response) -> list[tuple]:
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    data = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def test_detail_shows_cost_created_payment_groups_sender_channel_moderation(
    user, client_for, launch
):
    group = Group.objects.create(account=user.account, name="Постоянные клиенты")
    c = launch(user, ["+79161234567", "+79161230000"], description="Ноябрь")
    c.audience = {"group_ids": [group.pk]}
    c.save(update_fields=["audience"])
    body = client_for(user).get(f"/reports/campaigns/{c.pk}/").content.decode()
    for text in (
        "Стоимость рассылки",
        "детализация",
        "Дата создания рассылки",
        c.created_at.astimezone().strftime("%d.%m.%Y"),
        "Тип оплаты",
        "С баланса (предоплата)",
        "Постоянные клиенты",
        "Группы телефонной книги",
        "Рассылка СМС",
        "Модерация",
        "Успешно",
        "Все сообщения",
        "Выгрузить в Excel",
        "Выгрузить абонентов",
        "Повторить рассылку",
    ):
        assert text in body, text
    assert f'href="/sms/send/?repeat={c.pk}"' in body
    assert f"{c.cost}".replace(".", ",") in body


def test_breakdown_groups_messages_parts_and_cost_by_country_and_operator(
    user, client_for, launch
):
    c = launch(user, ["+79161234567", "+79031234567", "+79161231111"], text="я" * 71)
    response = client_for(user).get(
        f"/reports/campaigns/{c.pk}/breakdown/", HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "<html" not in body and "← Рассылка" not in body  # the dialog's fragment
    assert "Россия, МТС" in body
    msgs = list(Message.objects.filter(campaign=c))
    by_op: dict[str, list] = {}
    for m in msgs:
        by_op.setdefault(m.operator or "—", []).append(m)
    for operator, ms in by_op.items():
        assert operator in body
        cost = sum((m.price for m in ms if not m.refunded), Decimal("0"))
        assert f"{cost}".replace(".", ",") + "&nbsp;₽" in body
    assert '<td class="num">2</td>' in body  # 2 parts per message


def test_messages_of_a_campaign_with_status_filter_and_keyset_pages(
    user, client_for, launch, monkeypatch
):
    from reports import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    c = launch(user, phones(5) + ["+79161230000"])
    client = client_for(user)
    first = client.get(f"/reports/campaigns/{c.pk}/messages/").content.decode()
    ids = [int(x.split('"')[0]) for x in first.split('data-message="')[1:]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    nxt = first.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(f"/reports/campaigns/{c.pk}/messages/{nxt}").content.decode()
    ids2 = [int(x.split('"')[0]) for x in second.split('data-message="')[1:]]
    assert set(ids) | set(ids2) == set(
        Message.objects.filter(campaign=c).values_list("id", flat=True)
    )
    undelivered = client.get(f"/reports/campaigns/{c.pk}/messages/?status=undelivered")
    body = undelivered.content.decode()
    assert body.count('data-message="') == 1
    assert "+79161230000" in body and "Не доставлено" in body


def test_message_rows_show_dates_text_recipient_operator_status_time_and_reason(
    user, client_for, launch
):
    c = launch(user, ["+79161230000"], text="Ждём вас")
    m = Message.objects.get(campaign=c)
    body = client_for(user).get(f"/reports/campaigns/{c.pk}/messages/").content.decode()
    row = body.split(f'data-message="{m.pk}"')[1].split("</tr>")[0]
    assert "Ждём вас" in row and "+79161230000" in row and m.operator in row
    assert m.get_status_display() in row and m.reason and m.reason in row
    assert m.status_at.astimezone().strftime("%d.%m.%Y") in row


def test_detail_and_messages_query_counts_are_pinned(
    user, client_for, launch, django_assert_max_num_queries
):
    c = launch(user, phones(30))
    client = client_for(user)
    client.get("/")
    with django_assert_max_num_queries(8):
        assert client.get(f"/reports/campaigns/{c.pk}/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(f"/reports/campaigns/{c.pk}/messages/").status_code == 200


def test_messages_export_is_an_xlsx_with_every_message_and_no_formulas(
    user, client_for, launch
):
    c = launch(user, phones(7) + ["+79161230000"], text='=HYPERLINK("http://x")')
    response = client_for(user).get(f"/reports/campaigns/{c.pk}/messages/export/")
    data = sheet(response)
    assert data[0][:5] == (
        "Дата отправки",
        "Дата создания",
        "Отправитель",
        "Сообщение",
        "Получатель",
    )
    assert len(data) == 9
    assert {r[4] for r in data[1:]} == {
        m.phone for m in Message.objects.filter(campaign=c)
    }
    assert data[1][3] == '=HYPERLINK("http://x")'  # kept as text
    statuses = [r[7] for r in data[1:]]
    assert statuses.count("Не доставлено") == 1 and statuses.count("Доставлено") == 7


def test_messages_export_streams_in_chunks(user, client_for, launch, monkeypatch):
    from reports import exports

    monkeypatch.setattr(exports, "CHUNK", 4)
    c = launch(user, phones(10))
    data = sheet(client_for(user).get(f"/reports/campaigns/{c.pk}/messages/export/"))
    assert len({r[4] for r in data[1:]}) == 10


def test_campaign_list_export_has_the_status_columns_and_the_filters(
    user, client_for, launch
):
    a = launch(user, ["+79161234567", "+79161230000"], tags=["обувь"])
    launch(user, tags=["одежда"])
    data = sheet(client_for(user).get("/reports/sms/export/?tag=обувь"))
    header = data[0]
    assert "Д (Доставлено)" in header and "Н (Не доставлено)" in header
    assert len(data) == 2 and data[1][0] == a.pk
    row = dict(zip(header, data[1], strict=True))
    assert row["Всего"] == 2 and row["Д (Доставлено)"] == 1
    assert row["Н (Не доставлено)"] == 1 and row["Тэги"] == "обувь"


def test_recipients_to_a_new_group_delivered_only(user, client_for, launch):
    c = launch(user, ["+79161234567", "+79161234568", "+79161230000"])
    response = client_for(user).post(
        f"/reports/campaigns/{c.pk}/recipients/",
        {
            "target": "group",
            "which": "delivered",
            "group_mode": "new",
            "new_group_name": "Доставленные ноября",
        },
    )
    assert response.status_code == 302
    group = Group.objects.get(account=user.account, name="Доставленные ноября")
    assert set(Contact.objects.filter(group=group).values_list("phone", flat=True)) == {
        "+79161234567",
        "+79161234568",
    }


def test_recipients_to_an_existing_group_removing_them_from_other_groups(
    user, client_for, launch
):
    target = Group.objects.create(account=user.account, name="Недоставленные")
    other = Group.objects.create(account=user.account, name="Все")
    Contact.objects.create(account=user.account, group=other, phone="+79161230000")
    Contact.objects.create(account=user.account, group=other, phone="+79161234567")
    c = launch(user, ["+79161234567", "+79161230000"])
    response = client_for(user).post(
        f"/reports/campaigns/{c.pk}/recipients/",
        {
            "target": "group",
            "which": "undelivered",
            "group_mode": "existing",
            "group": target.pk,
            "remove_from_other_groups": "on",
        },
    )
    assert response.status_code == 302
    assert list(
        Contact.objects.filter(group=target).values_list("phone", flat=True)
    ) == ["+79161230000"]
    assert list(
        Contact.objects.filter(group=other).values_list("phone", flat=True)
    ) == ["+79161234567"]


def test_recipients_to_excel(user, client_for, launch):
    c = launch(user, ["+79161234567", "+79161230000", "+79161230001"])
    response = client_for(user).post(
        f"/reports/campaigns/{c.pk}/recipients/",
        {"target": "excel", "which": "undelivered"},
    )
    assert sheet(response) == [
        ("Номер телефона", "Статус"),
        ("+79161230000", "Не доставлено"),
        ("+79161230001", "Не доставлено"),
    ]


def test_recipients_export_refuses_a_foreign_group_or_a_missing_name(
    user, other_user, client_for, launch
):
    theirs = Group.objects.create(account=other_user.account, name="Чужая")
    c = launch(user, ["+79161234567"])
    client = client_for(user)
    url = f"/reports/campaigns/{c.pk}/recipients/"
    response = client.post(
        url,
        {
            "target": "group",
            "which": "delivered",
            "group_mode": "existing",
            "group": theirs.pk,
        },
    )
    assert response.status_code == 400
    assert "Выберите" in response.content.decode()
    response = client.post(
        url,
        {
            "target": "group",
            "which": "delivered",
            "group_mode": "new",
            "new_group_name": "  ",
        },
    )
    assert "Введите название новой группы" in response.content.decode()
    response = client.post(
        url,
        {
            "target": "group",
            "which": "undelivered",
            "group_mode": "new",
            "new_group_name": "Пусто",
        },
    )
    assert "нет абонентов с таким статусом" in response.content.decode()
    assert not Group.objects.filter(name="Пусто").exists()
    assert Contact.objects.filter(group=theirs).count() == 0


def test_a_read_only_user_cannot_export_recipients_to_a_group(
    user, make_user, client_for, launch
):
    c = launch(user, ["+79161234567"])
    reader = make_user(account=user.account, role="readonly")
    response = client_for(reader).post(
        f"/reports/campaigns/{c.pk}/recipients/",
        {
            "target": "group",
            "which": "delivered",
            "group_mode": "new",
            "new_group_name": "X",
        },
    )
    assert response.status_code == 403
    assert not Group.objects.filter(name="X").exists()


@pytest.mark.parametrize(
    "suffix", ["", "breakdown/", "messages/", "messages/export/", "recipients/"]
)
def test_another_accounts_campaign_is_a_404(
    user, other_user, client_for, launch, suffix
):
    theirs = launch(other_user)
    client = client_for(user)
    assert client.get(f"/reports/campaigns/{theirs.pk}/{suffix}").status_code == 404
    if suffix == "recipients/":
        assert (
            client.post(
                f"/reports/campaigns/{theirs.pk}/{suffix}",
                {"target": "excel", "which": "delivered"},
            ).status_code
            == 404
        )


def test_the_breakdown_follows_refunds_although_it_is_cached(user, client_for, launch):
    from datetime import timedelta

    from django.utils import timezone

    from messaging import services

    c = launch(
        user,
        ["+79161234567", "+79161234568"],
        send_at=timezone.now() + timedelta(days=1),
    )
    client = client_for(user)
    url = f"/reports/campaigns/{c.pk}/breakdown/"
    before = client.get(url).content.decode()
    assert f"{c.cost}".replace(".", ",") + "&nbsp;₽" in before
    services.campaign_cancel(campaign=c)
    after = client.get(url).content.decode()
    assert "0,00&nbsp;₽" in after
    assert f"{c.cost}".replace(".", ",") + "&nbsp;₽" not in after


def test_a_double_submit_of_a_new_group_changes_nothing_the_second_time(
    user, client_for, launch
):
    c = launch(user, ["+79161234567"])
    client = client_for(user)
    data = {
        "target": "group",
        "which": "delivered",
        "group_mode": "new",
        "new_group_name": "Клиенты",
    }
    assert (
        client.post(f"/reports/campaigns/{c.pk}/recipients/", data).status_code == 302
    )
    again = client.post(f"/reports/campaigns/{c.pk}/recipients/", data)
    assert again.status_code == 400
    assert "уже есть" in again.content.decode()
    assert Group.objects.filter(name="Клиенты").count() == 1


def test_a_read_only_user_sees_no_repeat_or_export_to_group_buttons(
    user, make_user, client_for, launch
):
    c = launch(user)
    reader = make_user(account=user.account, role="readonly")
    body = client_for(reader).get(f"/reports/campaigns/{c.pk}/").content.decode()
    assert "Повторить рассылку" not in body and "Выгрузить абонентов" not in body
    assert "Выгрузить в Excel" in body


def test_the_cached_breakdown_speaks_each_viewers_language(user, client_for, launch):
    c = launch(user, ["+79161234567"])
    client = client_for(user)
    url = f"/reports/campaigns/{c.pk}/breakdown/"
    assert "Россия" in client.get(url).content.decode()
    client.cookies["django_language"] = "en"
    page = client.get(url).content.decode()  # from the cache now
    assert "Russia" in page and "Россия" not in page


def test_the_recipients_page_opened_directly_is_a_plain_form(user, client_for, launch):
    """Opened directly, «Продолжить» did nothing: the form posted by htmx into a
    dialog that is only on the campaign's page."""
    c = launch(user, ["+79161234567"])
    client = client_for(user)
    page = client.get(f"/reports/campaigns/{c.pk}/recipients/").content.decode()
    form = re.search(r'<form[^>]*id="recipients-form"[^>]*>', page).group(0)
    assert "hx-post" not in form and 'method="post"' in form
    dialog = client.get(
        f"/reports/campaigns/{c.pk}/recipients/", HTTP_HX_REQUEST="true"
    ).content.decode()
    form = re.search(r'<form[^>]*id="recipients-form"[^>]*>', dialog).group(0)
    assert 'hx-target="#recipients-body"' in form
