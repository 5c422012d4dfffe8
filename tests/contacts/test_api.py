"""REST API of the phonebook (/api/v1/groups/, contacts, imports, export)."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import services
from contacts.models import Contact, Group, ImportJob, StopNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client_for, user):
    return api_client_for(user)


def test_groups_crud(api, user):
    r = api.post("/api/v1/groups/", {"name": "Клиенты"}, format="json")
    assert r.status_code == 201 and r.json()["size"] == 0
    gid = r.json()["id"]
    r = api.get("/api/v1/groups/")
    assert [g["id"] for g in r.json()["results"]] == [gid]
    r = api.patch(f"/api/v1/groups/{gid}/", {"is_stoplist": True}, format="json")
    assert r.json()["is_stoplist"] is True and r.json()["name"] == "Клиенты"
    assert api.delete(f"/api/v1/groups/{gid}/").status_code == 204
    assert Group.objects.get(pk=gid).deleted_at is not None
    assert api.get(f"/api/v1/groups/{gid}/").status_code == 404
    r = api.post("/api/v1/groups/", {"name": ""}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"


def test_contacts_create_list_filter_update_delete(api, user, make_group):
    services.custom_field_create(account=user.account, name="Карта", key="card")
    group = make_group(user.account)
    url = f"/api/v1/groups/{group.pk}/contacts/"
    r = api.post(
        url,
        {
            "phone": "8 (916) 123-45-67",
            "first_name": "Анна",
            "gender": "f",
            "extra": {"card": "A1"},
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["phone"] == "+79161234567" and body["operator"] == "МТС"
    assert body["extra"] == {"card": "A1"}
    r = api.post(url, {"phone": "+7 916 123 45 67"}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate"
    r = api.post(url, {"phone": "hello"}, format="json")
    assert r.status_code == 400 and "phone" in r.json()["error"]["fields"]
    r = api.post(url, {"phone": "+79031234567", "extra": {"nope": "1"}}, format="json")
    assert r.status_code == 400
    api.post(url, {"phone": "+79031234567", "gender": "m"}, format="json")
    r = api.get(url, {"gender": "f"})
    assert [c["phone"] for c in r.json()["results"]] == ["+79161234567"]
    r = api.get(url, {"extra.card": "A1"})
    assert len(r.json()["results"]) == 1
    assert api.get(url, {"age_min": "x"}).status_code == 400
    cid = body["id"]
    r = api.patch(f"/api/v1/contacts/{cid}/", {"last_name": "Петрова"}, format="json")
    assert r.status_code == 200 and r.json()["last_name"] == "Петрова"
    assert r.json()["extra"] == {"card": "A1"}
    assert api.delete(f"/api/v1/contacts/{cid}/").status_code == 204
    assert not Contact.objects.filter(pk=cid).exists()


def test_imports_are_listed_newest_first_and_by_group(api, user, make_group):
    first, second = make_group(user.account), make_group(user.account)
    for group, name in ((first, "a.csv"), (second, "b.csv"), (first, "c.csv")):
        r = api.post(
            f"/api/v1/groups/{group.pk}/import/",
            {"file": SimpleUploadedFile(name, b"+79161234567\n")},
            format="multipart",
        )
        assert r.status_code == 202
    page = api.get("/api/v1/imports/").json()
    assert [j["filename"] for j in page["results"]] == ["c.csv", "b.csv", "a.csv"]
    assert page["results"][0]["status"] == "done" and page["next"] is None
    by_group = api.get(f"/api/v1/imports/?group={first.pk}").json()["results"]
    assert [j["filename"] for j in by_group] == ["c.csv", "a.csv"]
    bad = api.get("/api/v1/imports/?group=первая")
    assert bad.status_code == 400 and "group" in bad.json()["error"]["fields"]


def test_import_through_the_api_returns_202_and_a_job(api, user, make_group):
    group = make_group(user.account)
    data = "Телефон;Имя\n+79161234567;Анна\nмусор;Б\n".encode()
    r = api.post(
        f"/api/v1/groups/{group.pk}/import/",
        {"file": SimpleUploadedFile("a.csv", data)},
        format="multipart",
    )
    assert r.status_code == 202, r.json()
    job = api.get(f"/api/v1/imports/{r.json()['id']}/").json()
    assert job["status"] == "done"
    assert (
        job["total"],
        job["created"],
        job["updated"],
        job["duplicates"],
        job["invalid"],
    ) == (2, 1, 0, 0, 1)
    assert job["errors"] == [{"row": 3, "reason": "Это не номер телефона"}]
    r = api.post(
        f"/api/v1/groups/{group.pk}/import/",
        {
            "file": SimpleUploadedFile("b.csv", b"a;b\n1;+79031234567\n"),
            "mapping": '{"1": "phone", "0": "first_name"}',
        },
        format="multipart",
    )
    assert r.status_code == 202
    assert Contact.objects.get(phone="+79031234567").first_name == "1"


def test_a_bad_file_or_mapping_through_the_api_is_a_clear_400(api, user, make_group):
    group = make_group(user.account)
    r = api.post(
        f"/api/v1/groups/{group.pk}/import/",
        {"file": SimpleUploadedFile("a.xlsx", b"\x89PNG\r\n\x1a\n....")},
        format="multipart",
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_file"
    r = api.post(
        f"/api/v1/groups/{group.pk}/import/",
        {
            "file": SimpleUploadedFile("a.csv", b"a;b\n1;2\n"),
            "mapping": '{"0": "nonsense"}',
        },
        format="multipart",
    )
    assert r.status_code == 400 and "nonsense" in r.json()["error"]["message"]
    assert not Contact.objects.exists()
    assert not ImportJob.objects.exclude(status="failed").exists()


def test_export_of_several_groups_as_xlsx(api, user, make_group, make_contact):
    a, b = make_group(user.account, "A"), make_group(user.account, "B")
    make_contact(a, "+79161234567")
    make_contact(b, "+79031234567")
    r = api.get("/api/v1/groups/export/", {"ids": f"{a.pk},{b.pk}"})
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    phones = [row[3] for row in wb.active.iter_rows(min_row=2, values_only=True)]
    assert phones == ["+79161234567", "+79031234567"]
    assert api.get("/api/v1/groups/export/", {"ids": "x"}).status_code == 400
    # ?format=csv is the file type, not DRF's renderer override (it was a 404).
    r = api.get("/api/v1/groups/export/", {"ids": f"{a.pk},{b.pk}", "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "+79161234567" in text and "+79031234567" in text
    r = api.get("/api/v1/groups/export/", {"ids": str(a.pk), "format": "pdf"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"


def test_custom_fields_and_stoplist_endpoints(api, user):
    r = api.post(
        "/api/v1/contact-fields/", {"name": "Бонусы", "key": "bonus"}, format="json"
    )
    assert r.status_code == 201 and r.json()["key"] == "bonus"
    page = api.get("/api/v1/contact-fields/").json()
    assert page["results"][0]["name"] == "Бонусы" and page["next"] is None
    field_id = page["results"][0]["id"]
    url = f"/api/v1/contact-fields/{field_id}/"
    r = api.patch(url, {"name": "Баллы", "key": "other"}, format="json")
    assert r.status_code == 200 and r.json()["name"] == "Баллы"
    assert r.json()["key"] == "bonus"
    assert api.patch(url, {"name": "  "}, format="json").status_code == 400
    assert api.get(url).json()["name"] == "Баллы"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    r = api.post("/api/v1/stoplist/", {"phone": "8 916 123 45 67"}, format="json")
    assert r.status_code == 201 and r.json()["phone"] == "+79161234567"
    stop_id = r.json()["id"]
    assert api.get(f"/api/v1/stoplist/{stop_id}/").json()["phone"] == "+79161234567"
    assert api.delete(f"/api/v1/stoplist/{stop_id}/").status_code == 204
    assert not StopNumber.objects.exists()


def test_another_accounts_objects_are_404_in_the_api(
    api, other_user, make_group, make_contact
):
    group = make_group(other_user.account)
    contact = make_contact(group, "+79161234567")
    job = ImportJob.objects.create(
        account=other_user.account,
        group=group,
        filename="x.csv",
        path="/nonexistent",
        kind="csv",
    )
    stop = StopNumber.objects.create(account=other_user.account, phone="+79161234567")
    field = services.custom_field_create(account=other_user.account, name="Чужое")
    for url in (
        f"/api/v1/groups/{group.pk}/",
        f"/api/v1/groups/{group.pk}/contacts/",
        f"/api/v1/contacts/{contact.pk}/",
        f"/api/v1/imports/{job.pk}/",
        f"/api/v1/contact-fields/{field.pk}/",
        f"/api/v1/stoplist/{stop.pk}/",
    ):
        assert api.get(url).status_code == 404, url
    assert (
        api.patch(
            f"/api/v1/contact-fields/{field.pk}/", {"name": "x"}, format="json"
        ).status_code
        == 404
    )
    assert api.delete(f"/api/v1/contact-fields/{field.pk}/").status_code == 404
    field.refresh_from_db()
    assert field.name == "Чужое"
    assert api.get("/api/v1/imports/").json()["results"] == []
    assert api.get(f"/api/v1/imports/?group={group.pk}").json()["results"] == []
    assert (
        api.patch(
            f"/api/v1/groups/{group.pk}/", {"name": "x"}, format="json"
        ).status_code
        == 404
    )
    assert api.delete(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert api.delete(f"/api/v1/stoplist/{stop.pk}/").status_code == 404
    assert (
        api.post(
            f"/api/v1/groups/{group.pk}/contacts/",
            {"phone": "+79031234567"},
            format="json",
        ).status_code
        == 404
    )
    assert (
        api.post(
            f"/api/v1/groups/{group.pk}/import/",
            {"file": SimpleUploadedFile("a.csv", b"+79031234567\n")},
            format="multipart",
        ).status_code
        == 404
    )
    assert api.get("/api/v1/groups/export/", {"ids": str(group.pk)}).status_code == 404
    assert Contact.objects.filter(group=group).count() == 1
