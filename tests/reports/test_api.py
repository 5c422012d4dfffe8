import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from messaging.models import Message
from tests.reports.conftest import phones

pytestmark = pytest.mark.django_db


def xlsx(response) -> list[tuple]:
    data = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def test_campaign_list_carries_counters_and_cost(user, api_client_for, launch):
    c = launch(
        user,
        ["+79161234567", "+79161230000", "+79161231111"],
        tags=["акция"],
        description="Ноябрь",
    )
    response = api_client_for(user).get("/api/v1/campaigns/")
    assert response.status_code == 200
    data = response.json()
    assert data["next"] is None and data["previous"] is None
    (item,) = data["results"]
    assert item["id"] == c.pk and item["channel"] == "sms" and item["tags"] == ["акция"]
    assert item["counters"] == {"delivered": 1, "failed": 1, "undelivered": 1}
    assert item["cost"] == str(c.cost) and item["recipients"] == 3
    assert set(item) == {
        "id",
        "channel",
        "source",
        "status",
        "sender",
        "text",
        "description",
        "tags",
        "created_at",
        "send_at",
        "recipients",
        "cost",
        "counters",
    }


def test_campaign_list_filters(user, api_client_for, launch):
    a = launch(
        user, ["+79161234567"], text="Распродажа обуви", tags=["обувь"], sender="SHOP"
    )
    b = launch(user, ["+79161230000"], text="Новая коллекция", tags=["одежда"])
    old = launch(user, days_ago=40)
    api = api_client_for(user)

    def ids(**params):
        response = api.get("/api/v1/campaigns/", params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids() == [b.pk, a.pk]
    assert ids(tag="обувь") == [a.pk]
    assert ids(sender="SHOP") == [a.pk]
    assert ids(q="коллекц") == [b.pk]
    assert ids(status="undelivered") == [b.pk]
    assert ids(channel="sms") == [b.pk, a.pk]
    day = (timezone.localdate() - timedelta(days=40)).isoformat()
    assert ids(date_from=day, date_to=day) == [old.pk]
    assert ids(period="all") == [b.pk, a.pk, old.pk]


def test_campaign_list_cursor_pagination_walks_every_campaign_once(
    user, api_client_for, launch
):
    made = [launch(user, [f"+7916123456{i}"]) for i in range(5)]
    api = api_client_for(user)
    seen, url = [], "/api/v1/campaigns/?limit=2"
    while url:
        data = api.get(url).json()
        seen += [r["id"] for r in data["results"]]
        url = data["next"]
    assert seen == [c.pk for c in reversed(made)]


def walk(api, url, link):
    pages = []
    while url:
        data = api.get(url).json()
        assert set(data) == {"next", "previous", "results"}
        pages.append([r["id"] for r in data["results"]])
        url = data[link]
    return pages


def test_campaign_list_pages_walk_back_with_previous(user, api_client_for, launch):
    made = [launch(user, [f"+7916123456{i}"]) for i in range(5)]
    api = api_client_for(user)
    newest_first = [c.pk for c in reversed(made)]
    forward = walk(api, "/api/v1/campaigns/?limit=2", "next")
    assert forward == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    last = api.get("/api/v1/campaigns/?limit=2").json()
    last = api.get(api.get(last["next"]).json()["next"]).json()
    assert last["next"] is None and last["previous"]
    assert walk(api, last["previous"], "previous") == [
        newest_first[2:4],
        newest_first[0:2],
    ]
    # Rows added meanwhile are neither skipped nor repeated going back.
    fresh = launch(user, ["+79161239999"])
    back = api.get(last["previous"]).json()
    assert [r["id"] for r in back["results"]] == newest_first[2:4]
    first = api.get(back["previous"]).json()
    assert [r["id"] for r in first["results"]] == newest_first[0:2]
    assert [r["id"] for r in api.get(first["previous"]).json()["results"]] == [fresh.pk]


def test_a_page_past_the_end_leads_back(user, api_client_for, launch):
    made = [launch(user, [f"+7916123456{i}"]) for i in range(3)]
    api = api_client_for(user)
    page = api.get("/api/v1/campaigns/?limit=3").json()
    assert page["next"] is None
    # the cursor that would follow the oldest row, from a link made earlier
    second = api.get("/api/v1/campaigns/?limit=2").json()["next"]
    made[0].delete()
    beyond = api.get(second).json()
    assert beyond["results"] == [] and beyond["next"] is None
    back = api.get(beyond["previous"]).json()
    assert [r["id"] for r in back["results"]] == [made[2].pk, made[1].pk]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"date_from": "вчера"}, "date_from"),
        ({"channel": "pigeon"}, "channel"),
        ({"status": "nonsense"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "@@@"}, "cursor"),
        ({"weekday": "9"}, "weekday"),
    ],
)
def test_campaign_list_rejects_bad_filters_in_russian(
    user, api_client_for, params, field
):
    response = api_client_for(user).get("/api/v1/campaigns/", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"]
    assert any("а" <= ch <= "я" for ch in error["message"].lower())


def test_campaign_list_never_shows_another_account(
    user, other_user, api_client_for, launch
):
    launch(other_user)
    mine = launch(user)
    ids = [
        r["id"]
        for r in api_client_for(user)
        .get("/api/v1/campaigns/?period=all")
        .json()["results"]
    ]
    assert ids == [mine.pk]


def test_campaign_list_query_count_is_pinned(
    user, api_client_for, launch, django_assert_max_num_queries
):
    for i in range(10):
        launch(user, [f"+7916123450{i}", "+79161230000"])
    api = api_client_for(user)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/campaigns/")
    assert len(response.json()["results"]) == 10


def test_campaign_messages_paginated_with_status_filter(user, api_client_for, launch):
    c = launch(user, phones(5) + ["+79161230000"])
    api = api_client_for(user)
    seen, url = [], f"/api/v1/campaigns/{c.pk}/messages/?limit=4"
    while url:
        data = api.get(url).json()
        seen += [r["id"] for r in data["results"]]
        url = data["next"]
    assert seen == sorted(
        Message.objects.filter(campaign=c).values_list("id", flat=True), reverse=True
    )
    assert walk(api, data["previous"], "previous") == [seen[:4]]
    data = api.get(f"/api/v1/campaigns/{c.pk}/messages/?status=undelivered").json()
    (m,) = data["results"]
    assert m["phone"] == "+79161230000" and m["status"] == "undelivered"
    assert m["status_display"] == "Не доставлено" and m["reason"]
    assert (
        api.get(f"/api/v1/campaigns/{c.pk}/messages/?status=bogus").status_code == 400
    )


def test_campaign_messages_query_count_is_pinned(
    user, api_client_for, launch, django_assert_max_num_queries
):
    c = launch(user, phones(20))
    api = api_client_for(user)
    with django_assert_max_num_queries(5):
        response = api.get(f"/api/v1/campaigns/{c.pk}/messages/")
    assert len(response.json()["results"]) == 20


def test_exports_by_api(user, api_client_for, launch):
    c = launch(user, phones(3) + ["+79161230000"], tags=["акция"])
    api = api_client_for(user)
    rows = xlsx(api.get(f"/api/v1/campaigns/{c.pk}/messages/export/"))
    assert rows[0][4] == "Получатель" and len(rows) == 5
    newest = Message.objects.filter(campaign=c).order_by("-id").first()
    local = timezone.localtime(newest.created_at).replace(tzinfo=None)
    assert abs(rows[1][1] - local) < timedelta(seconds=1)  # a real local date
    rows = xlsx(
        api.get(f"/api/v1/campaigns/{c.pk}/messages/export/?status=undelivered")
    )
    assert [r[4] for r in rows[1:]] == ["+79161230000"]
    rows = xlsx(api.get("/api/v1/campaigns/export/?tag=акция"))
    assert rows[1][0] == c.pk and len(rows) == 2
    # ?format= names the file type (DRF's renderer override made it a 404).
    rows = xlsx(api.get("/api/v1/campaigns/export/?tag=акция&format=xlsx"))
    assert rows[1][0] == c.pk
    for url in (
        "/api/v1/campaigns/export/?format=csv",
        f"/api/v1/campaigns/{c.pk}/messages/export/?format=csv",
    ):
        response = api.get(url)
        assert response.status_code == 400, url
        assert response.json()["error"]["message"] == (
            "Выгрузка бывает только в формате xlsx."
        )


@pytest.mark.parametrize("suffix", ["messages/", "messages/export/"])
def test_another_accounts_campaign_is_a_404_in_the_api(
    user, other_user, api_client_for, launch, suffix
):
    theirs = launch(other_user)
    response = api_client_for(user).get(f"/api/v1/campaigns/{theirs.pk}/{suffix}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_api_needs_a_token(client, launch, user):
    c = launch(user)
    assert client.get(f"/api/v1/campaigns/{c.pk}/messages/").status_code in (401, 403)
