"""The phonebook pages: groups, contacts, quick add, import flow, search,
statistics, trash, cleanup, stop-list, export, custom fields; tenancy."""

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts import selectors, services
from contacts.models import Contact, CustomField, Group, ImportJob, StopNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client_for, user):
    return client_for(user)


def test_every_menu_page_opens(web):
    for name in (
        "group_list",
        "search",
        "stats",
        "trash",
        "cleanup",
        "stoplist",
        "export",
        "fields",
        "group_create",
    ):
        response = web.get(reverse(f"contacts:{name}"))
        assert response.status_code == 200, name


def test_a_user_creates_a_group_and_adds_contacts_with_the_form_staying_open(web, user):
    response = web.post(
        reverse("contacts:group_create"),
        {"name": "Клиенты", "is_hidden": "", "is_stoplist": ""},
    )
    group = Group.objects.get(account=user.account)
    assert response.url == reverse("contacts:group_detail", args=[group.pk])
    url = reverse("contacts:contact_add", args=[group.pk])
    response = web.post(
        url,
        {
            "last_name": "Иванова",
            "first_name": "Анна",
            "phone": "8 (916) 123-45-67",
            "gender": "f",
            "birth_date": "1990-05-17",
            "consent": "on",
        },
    )
    assert response.status_code == 302 and response.url == url
    contact = Contact.objects.get(group=group)
    assert contact.phone == "+79161234567" and contact.consent
    assert contact.operator == "МТС" and contact.region
    response = web.post(url, {"phone": "+7 916 123 45 67"})
    assert "уже есть" in response.content.decode()
    response = web.post(url, {"phone": "позвоните мне"})
    assert "не номер телефона" in response.content.decode()
    assert Contact.objects.count() == 1
    page = web.get(reverse("contacts:group_detail", args=[group.pk])).content.decode()
    assert "+79161234567" in page and "Иванова" in page


def test_edit_in_this_group_only_or_in_all_groups_with_the_number(
    web, user, make_group, make_contact
):
    a, b = make_group(user.account, "A"), make_group(user.account, "B")
    ca = make_contact(a, "+79161234567", first_name="Анна")
    cb = make_contact(b, "+79161234567", first_name="Анна")
    url = reverse("contacts:contact_edit", args=[ca.pk])
    web.post(url, {"phone": "+79161234567", "first_name": "Аня", "scope": "group"})
    ca.refresh_from_db()
    cb.refresh_from_db()
    assert (ca.first_name, cb.first_name) == ("Аня", "Анна")
    web.post(
        url, {"phone": "+79161234567", "first_name": "Анна Петровна", "scope": "all"}
    )
    cb.refresh_from_db()
    assert cb.first_name == "Анна Петровна"


def test_copy_move_and_delete_selected_contacts(web, user, make_group, make_contact):
    a, b = make_group(user.account, "A"), make_group(user.account, "B")
    c1 = make_contact(a, "+79161234567")
    c2 = make_contact(a, "+79161234568")
    make_contact(b, "+79161234568")
    url = reverse("contacts:contacts_bulk", args=[a.pk])
    web.post(url, {"action": "copy", "target": b.pk, "ids": [c1.pk, c2.pk]})
    assert b.contacts.count() == 2 and a.contacts.count() == 2
    web.post(url, {"action": "move", "target": b.pk, "ids": [c1.pk]})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.size, b.size) == (1, 2)
    web.post(url, {"action": "delete", "ids": [c2.pk]})
    a.refresh_from_db()
    assert a.size == 0


def test_quick_add_extracts_numbers_from_text_and_a_txt_file(web, user, make_group):
    group = make_group(user.account)
    url = reverse("contacts:quick_add", args=[group.pk])
    response = web.post(
        url,
        {
            "text": "Иван 8 (916) 123-45-67, Оля +7 903 1234567;\n"
            "12345\n7-916-123-45-67",
            "file": SimpleUploadedFile("n.txt", "звоните 9251234567".encode("cp1251")),
        },
    )
    page = response.content.decode()
    assert set(group.contacts.values_list("phone", flat=True)) == {
        "+79161234567",
        "+79031234567",
        "+79251234567",
    }
    # Reported as skipped — not merely echoed back in the text box.
    skipped = re.search(r'<ul class="small rejected">(.*?)</ul>', page, re.S)
    assert skipped and "<li>12345</li>" in skipped.group(1)
    assert re.search(r"<b>1</b><span>пропущено</span>", page)
    response = web.post(url, {"file": SimpleUploadedFile("x.txt", b"\x00\x01\x02")})
    assert "не текстовый" in response.content.decode()


def xlsx(rows):
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_the_import_flow_preview_mapping_progress_and_result(web, user, make_group):
    group = make_group(user.account)
    data = xlsx(
        [
            ["ФИО", "Мобильный", "Заметка"],
            ["Иванов Иван Иванович", "89161234567", "vip"],
            ["Петрова Анна", "нет номера", ""],
        ]
    )
    response = web.post(
        reverse("contacts:import_upload", args=[group.pk]),
        {"file": SimpleUploadedFile("база.xlsx", data)},
    )
    job = ImportJob.objects.get()
    assert response.url == reverse("contacts:import_detail", args=[job.pk])
    page = web.get(response.url).content.decode()
    assert "Сопоставьте колонки" in page and "Иванов Иван Иванович" in page
    assert job.mapping == {"0": "fio", "1": "phone"}
    response = web.post(
        response.url,
        {
            "col_0": "fio",
            "col_1": "phone",
            "col_2": "",
            "has_header": "on",
            "policy": "skip",
        },
    )
    job.refresh_from_db()
    assert job.status == "done" and (job.created, job.invalid) == (1, 1)
    page = web.get(
        reverse("contacts:import_detail", args=[job.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="import-result"' in page and "<html" not in page
    contact = Contact.objects.get(group=group)
    assert (contact.last_name, contact.first_name, contact.middle_name) == (
        "Иванов",
        "Иван",
        "Иванович",
    )
    report = web.get(reverse("contacts:import_errors", args=[job.pk]))
    assert "нет номера" in b"".join(report.streaming_content).decode("utf-8-sig")


def test_an_unreadable_upload_shows_the_reason_on_the_form(web, user, make_group):
    group = make_group(user.account)
    response = web.post(
        reverse("contacts:import_upload", args=[group.pk]),
        {"file": SimpleUploadedFile("a.xlsx", b"PK\x03\x04garbage")},
    )
    assert "Файл повреждён" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_search_finds_by_phone_fragment_name_and_operator(
    web, user, other_user, make_group, make_contact
):
    group = make_group(user.account)
    make_contact(group, "+79161234567", last_name="Иванова", first_name="Анна")
    make_contact(group, "+79031112233", last_name="Петров")
    make_contact(make_group(other_user.account), "+79161234568", last_name="Иванова")
    url = reverse("contacts:search")
    assert "+79161234567" in web.get(url, {"q": "1234567"}).content.decode()
    page = web.get(url, {"q": "иванова анна"}).content.decode()
    assert "+79161234567" in page and "+79161234568" not in page
    # A first name alone: the broad (time-boxed) search finds it.
    assert "+79161234567" in web.get(url, {"q": "анна"}).content.decode()
    make_contact(group, "+79251112233", email="anna.k@example.com")
    page = web.get(url, {"q": "anna.k@"}).content.decode()
    assert "+79251112233" in page and "+79161234567" not in page
    page = web.get(url, {"q": "мегафон"}).content.decode()
    assert "+79251112233" in page and "+79161234567" not in page
    page = web.get(url, {"q": "+7 916 123-45-67"}).content.decode()
    assert "+79161234567" in page and "+79031112233" not in page
    page = web.get(url, {"q": "8 903 111"}).content.decode()
    assert "+79031112233" in page and "+79161234567" not in page


def test_stats_trash_restore_and_stoplist(web, user, make_group, make_contact):
    group = make_group(user.account)
    make_contact(group, "+79161234567", gender="f")
    response = web.get(reverse("contacts:stats"))
    assert "chart-operator" in response.content.decode()
    assert response.context["charts"]["operator"] == {"labels": ["МТС"], "values": [1]}
    assert response.context["charts"]["gender"]["labels"] == ["Женский"]
    web.post(reverse("contacts:group_delete", args=[group.pk]))
    assert (
        f'data-group="{group.pk}"'
        not in web.get(reverse("contacts:group_list")).content.decode()
    )
    assert (
        f'data-group="{group.pk}"'
        in web.get(reverse("contacts:trash")).content.decode()
    )
    web.post(reverse("contacts:group_restore", args=[group.pk]))
    group.refresh_from_db()
    assert group.deleted_at is None
    web.post(reverse("contacts:stoplist"), {"form": "add", "text": "8 916 000 11 22"})
    assert StopNumber.objects.get(account=user.account).phone == "+79160001122"


def test_custom_fields_are_defined_edited_and_shown(web, user, make_group):
    web.post(
        reverse("contacts:fields"),
        {"form": "add", "name": "Номер карты", "key": "card", "kind": "text"},
    )
    field = CustomField.objects.get(account=user.account)
    assert field.key == "card"
    group = make_group(user.account)
    web.post(
        reverse("contacts:contact_add", args=[group.pk]),
        {"phone": "+79161234567", "extra__card": "A-1"},
    )
    assert Contact.objects.get().extra == {"card": "A-1"}
    assert (
        "A-1"
        in web.get(reverse("contacts:group_detail", args=[group.pk])).content.decode()
    )
    response = web.post(
        reverse("contacts:fields"),
        {"form": "add", "name": "Телефон", "key": "phone", "kind": "text"},
    )
    assert "занята" in response.content.decode()


def test_export_downloads_an_xlsx_with_custom_fields(
    web, user, make_group, make_contact
):
    services.custom_field_create(account=user.account, name="Бонусы", key="bonus")
    a, b = make_group(user.account, "A"), make_group(user.account, "B")
    make_contact(a, "+79161234567", last_name="Иванова", extra={"bonus": "100"})
    make_contact(b, "+79031234567")
    response = web.get(
        reverse("contacts:export"), {"groups": [a.pk, b.pk], "format": "xlsx"}
    )
    data = b"".join(response.streaming_content)
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "Фамилия" and rows[0][-1] == "Бонусы"
    assert rows[1][:4] == ["Иванова", None, None, "+79161234567"]
    assert rows[1][-2:] == ["A", "100"] and rows[2][3] == "+79031234567"
    response = web.get(reverse("contacts:export"), {"groups": [a.pk], "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Иванова;" in text and "+79031234567" not in text


def test_group_pages_have_a_fixed_number_of_queries(
    web, user, make_group, django_assert_max_num_queries
):
    CustomField.objects.create(account=user.account, key="card", name="Карта")
    groups = [make_group(user.account, f"G{i}") for i in range(5)]
    Contact.objects.bulk_create(
        [
            Contact(
                account=user.account,
                group=groups[0],
                phone=f"+7916{i:07d}",
                extra={"card": str(i)},
            )
            for i in range(120)
        ]
    )
    services.refresh_sizes([groups[0].pk])
    with django_assert_max_num_queries(8):
        assert web.get(reverse("contacts:group_list")).status_code == 200
    with django_assert_max_num_queries(10):
        assert (
            web.get(reverse("contacts:group_detail", args=[groups[0].pk])).status_code
            == 200
        )
    with django_assert_max_num_queries(11):
        assert (
            web.get(
                reverse("contacts:group_detail", args=[groups[0].pk]), {"q": "7916"}
            ).status_code
            == 200
        )
    with django_assert_max_num_queries(8):
        assert web.get(reverse("contacts:search"), {"q": "7916"}).status_code == 200


def test_another_accounts_objects_are_404(web, other_user, make_group, make_contact):
    group = make_group(other_user.account)
    contact = make_contact(group, "+79161234567")
    job = ImportJob.objects.create(
        account=other_user.account,
        group=group,
        filename="x.csv",
        path="/nonexistent",
        kind="csv",
    )
    for name, args in (
        ("group_detail", [group.pk]),
        ("group_edit", [group.pk]),
        ("contact_add", [group.pk]),
        ("quick_add", [group.pk]),
        ("import_upload", [group.pk]),
        ("group_export", [group.pk]),
        ("contact_edit", [contact.pk]),
        ("contact_download", [contact.pk]),
        ("import_detail", [job.pk]),
        ("import_errors", [job.pk]),
    ):
        assert web.get(reverse(f"contacts:{name}", args=args)).status_code == 404, name
    for name, args in (
        ("group_delete", [group.pk]),
        ("contact_delete", [contact.pk]),
        ("contacts_bulk", [group.pk]),
        ("group_restore", [group.pk]),
    ):
        assert web.post(reverse(f"contacts:{name}", args=args)).status_code == 404, name
    response = web.get(reverse("contacts:export"), {"groups": [group.pk]})
    assert response.status_code == 200 and "Content-Disposition" not in response
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert selectors.group_get(account_id=other_user.account.pk, group_id=group.pk)


def test_a_read_only_user_cannot_change_the_phonebook(
    client_for, make_user, user, make_group
):
    reader = make_user(account=user.account, role="readonly")
    group = make_group(user.account)
    web = client_for(reader)
    assert web.get(reverse("contacts:group_detail", args=[group.pk])).status_code == 200
    assert (
        web.post(reverse("contacts:group_delete", args=[group.pk])).status_code == 403
    )


def test_the_group_settings_page_leads_back_and_saves(web, user, make_group):
    group = make_group(user.account, name="Клиенты")
    page = web.get(f"/contacts/groups/{group.pk}/edit/").content.decode()
    assert "Настройки группы" in page
    assert f'href="/contacts/groups/{group.pk}/"' in page and "← Клиенты" in page
    assert ">Сохранить</button>" in page
