from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import registry
from messaging.models import Campaign, CampaignCounter
from messaging.registry import ChannelKind, StatusColumn

pytestmark = pytest.mark.django_db


def rows(response) -> list[int]:
    return [
        int(x)
        for x in response.content.decode().split('data-campaign="')[1:]
        for x in [x.split('"')[0]]
    ]


def test_campaigns_tab_shows_status_columns_with_tooltips_and_counts(
    user, client_for, launch
):
    c = launch(
        user,
        ["+79161234567", "+79161230000", "+79161239999"],
        tags=["акция"],
        description="Ноябрь",
    )
    body = client_for(user).get("/reports/").content.decode()
    for abbr, title in (
        ("Д", "Доставлено"),
        ("Кл", "Клик по ссылке"),
        ("Н", "Не доставлено"),
        ("М", "На модерации"),
        ("Отм", "Отменено"),
        ("П", "В процессе отправки"),
        ("Отл", "Отложено"),
    ):
        assert f'<abbr title="{title}">{abbr}</abbr>' in body
    assert 'title="Отправлено оператору' in body
    row = body.split(f'data-campaign="{c.pk}"')[1].split("</tr>")[0]
    cells = [
        int(x.split(">")[1].split("<")[0]) for x in row.split('<td class="num')[1:-1]
    ]
    # Всего, Д, Кл, Н, М, Отм, Отпр, П, Отл
    assert cells == [3, 2, 0, 1, 0, 0, 0, 0, 0]
    assert "Ноябрь" in row and "Личный кабинет" in row
    assert "Показано 1 запись из 1" in body


def test_campaign_rows_come_from_counters_not_from_message_rows(
    user, client_for, launch
):
    c = launch(user, ["+79161234567"])
    CampaignCounter.objects.filter(campaign=c, status="delivered").update(count=777)
    body = client_for(user).get("/reports/").content.decode()
    assert '<td class="num total">777</td>' in body


def test_the_default_period_is_the_last_30_days_and_all_time_is_one_click(
    user, client_for, launch
):
    recent = launch(user)
    old = launch(user, days_ago=45)
    client = client_for(user)
    body = client.get("/reports/").content.decode()
    assert rows(client.get("/reports/")) == [recent.pk]
    assert "Дата отправки: последние 30 дней" in body
    # The chip's × shows all time.
    assert 'href="?period=all"' in body
    assert rows(client.get("/reports/?period=all")) == [recent.pk, old.pk]
    day = (timezone.localdate() - timedelta(days=45)).isoformat()
    assert rows(client.get(f"/reports/?date_from={day}&date_to={day}")) == [old.pk]


def test_filters_by_sender_text_source_weekday_tag_and_status(user, client_for, launch):
    a = launch(
        user,
        ["+79161234567"],
        text="Распродажа обуви",
        tags=["обувь", "vip"],
        sender="SHOP",
        source="api",
    )
    b = launch(user, ["+79161230000"], text="Новая коллекция", tags=["одежда"])
    client = client_for(user)
    assert rows(client.get("/reports/?sender=shop")) == [a.pk]
    assert rows(client.get("/reports/?q=коллекц")) == [b.pk]
    assert rows(client.get("/reports/?source=api")) == [a.pk]
    assert rows(client.get("/reports/?tag=обувь")) == [a.pk]
    assert rows(client.get("/reports/?tag=обу")) == []
    assert rows(client.get("/reports/?status=undelivered")) == [b.pk]
    assert rows(client.get("/reports/?status=delivered")) == [a.pk]
    today = str(timezone.localdate().isoweekday())
    other = str(timezone.localdate().isoweekday() % 7 + 1)
    assert rows(client.get(f"/reports/?weekday={today}")) == [b.pk, a.pk]
    assert rows(client.get(f"/reports/?weekday={other}")) == []


def test_applied_filters_are_removable_chips(user, client_for, launch):
    launch(user, tags=["обувь"], sender="SHOP")
    body = client_for(user).get("/reports/?tag=обувь&sender=SHOP").content.decode()
    assert "Тэг: обувь" in body and "Отправитель: SHOP" in body
    # Removing the tag chip keeps the sender filter, and vice versa.
    assert 'href="?sender=SHOP"' in body
    assert 'href="?tag=%D0%BE%D0%B1%D1%83%D0%B2%D1%8C"' in body
    assert 'id="filters-dialog"' in body and "Добавить фильтры" in body


def test_a_tag_click_filters_by_that_tag_keeping_other_filters(
    user, client_for, launch
):
    a = launch(user, tags=["обувь"], sender="SHOP")
    launch(user, tags=["одежда"], sender="SHOP")
    client = client_for(user)
    body = client.get("/reports/?sender=SHOP").content.decode()
    row = body.split(f'data-campaign="{a.pk}"')[1].split("</tr>")[0]
    link = row.split('class="tag" href="')[1].split('"')[0].replace("&amp;", "&")
    assert link == "?sender=SHOP&tag=%D0%BE%D0%B1%D1%83%D0%B2%D1%8C"
    response = client.get("/reports/" + link)
    assert rows(response) == [a.pk]
    assert "Тэг: обувь" in response.content.decode()


def test_a_bad_filter_is_reported_in_russian_and_ignored(user, client_for, launch):
    c = launch(user)
    client = client_for(user)
    response = client.get("/reports/?date_from=31.02.2026&status=nonsense")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Этот фильтр не применён" in body
    assert rows(response) == [c.pk]
    response = client.get("/reports/?date_from=2026-05-10&date_to=2026-05-01")
    assert "Дата начала периода позже даты окончания" in response.content.decode()


def test_campaign_pages_are_keyset_paginated(user, client_for, launch, monkeypatch):
    from reports import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    made = [launch(user, [f"+7916123456{i}"]) for i in range(5)]
    client = client_for(user)
    seen = []
    url = "/reports/"
    while url:
        response = client.get(url)
        seen += rows(response)
        body = response.content.decode()
        url = (
            (
                "/reports/"
                + body.split('id="next-page" href="')[1]
                .split('"')[0]
                .replace("&amp;", "&")
            )
            if 'id="next-page"' in body
            else ""
        )
    assert seen == [c.pk for c in reversed(made)]


def test_campaign_pages_lead_back_with_a_back_link(
    user, client_for, launch, monkeypatch
):
    from reports import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    made = [launch(user, [f"+7916123456{i}"]) for i in range(5)]
    client = client_for(user)

    def link(body, anchor):
        if f'id="{anchor}"' not in body:
            return ""
        href = body.split(f'id="{anchor}" href="')[1].split('"')[0]
        return "/reports/" + href.replace("&amp;", "&")

    first = client.get("/reports/").content.decode()
    assert 'id="prev-page"' not in first
    second = client.get(link(first, "next-page")).content.decode()
    third = client.get(link(second, "next-page")).content.decode()
    assert rows_of(third) == [made[0].pk]
    back = client.get(link(third, "prev-page"))
    assert rows(back) == [made[2].pk, made[1].pk]
    assert "Назад" in back.content.decode()
    again = client.get(link(back.content.decode(), "prev-page"))
    assert rows(again) == [made[4].pk, made[3].pk]
    assert 'id="prev-page"' not in again.content.decode()


def rows_of(body: str) -> list[int]:
    return [int(x.split('"')[0]) for x in body.split('data-campaign="')[1:]]


def test_a_tampered_cursor_shows_the_first_page_with_a_message(
    user, client_for, launch
):
    c = launch(user)
    response = client_for(user).get("/reports/?cursor=%%%garbage")
    assert rows(response) == [c.pk]
    assert "Неверная ссылка на страницу" in response.content.decode()


def test_deferred_tab_lists_campaigns_waiting_for_their_time(user, client_for, launch):
    later = launch(user, send_at=timezone.now() + timedelta(days=3))
    launch(user)
    client = client_for(user)
    assert rows(client.get("/reports/sms/deferred/")) == [later.pk]
    body = client.get("/reports/sms/deferred/").content.decode()
    row = body.split(f'data-campaign="{later.pk}"')[1].split("</tr>")[0]
    assert '<td class="num">1</td>' in row  # Отл


def test_another_accounts_campaigns_are_invisible(user, other_user, client_for, launch):
    launch(other_user, sender="THEIRS")
    mine = launch(user)
    client = client_for(user)
    assert rows(client.get("/reports/?period=all")) == [mine.pk]
    assert "THEIRS" not in client.get("/reports/sms/messages/").content.decode()


def test_the_campaigns_tab_query_count_is_pinned(
    user, client_for, launch, django_assert_max_num_queries
):
    for i in range(12):
        launch(user, [f"+7916123450{i % 10}", "+79161230000"], tags=[f"t{i}"])
    client = client_for(user)
    client.get("/reports/")
    with django_assert_max_num_queries(10):
        response = client.get("/reports/")
    assert len(rows(response)) == 12


def test_unknown_channel_is_a_404(user, client_for):
    assert client_for(user).get("/reports/nosuch/").status_code == 404


@pytest.fixture
def voice_like_channel():
    """A channel that declares other report columns, as voice will."""
    kind = registry.register(
        ChannelKind(
            code="testvoice",
            label="Голосовая рассылка (тест)",
            columns=(
                StatusColumn("success", "Усп", "Успешный вызов", ("success",)),
                StatusColumn("ivr", "IVR", "Клиент нажимал кнопки", ("ivr",)),
                StatusColumn(
                    "unsubscribed", "От", "Абонент отписался", ("unsubscribed",)
                ),
            ),
        )
    )
    yield kind
    registry._channels.pop("testvoice", None)


def test_a_registered_channel_gets_its_report_by_declaring_columns(
    user, client_for, voice_like_channel
):
    c = Campaign.objects.create(
        account=user.account,
        channel="testvoice",
        text="Звонок",
        recipients=3,
        status="done",
    )
    CampaignCounter.objects.bulk_create(
        [
            CampaignCounter(campaign=c, status="success", count=2),
            CampaignCounter(campaign=c, status="unsubscribed", count=1),
        ]
    )
    client = client_for(user)
    body = client.get("/reports/testvoice/").content.decode()
    assert '<abbr title="Успешный вызов">Усп</abbr>' in body
    assert '<abbr title="Клиент нажимал кнопки">IVR</abbr>' in body
    assert "Кл</abbr>" not in body
    row = body.split(f'data-campaign="{c.pk}"')[1].split("</tr>")[0]
    assert (
        '<td class="num total">3</td><td class="num">2</td><td class="num zero">0</td>'
        '<td class="num">1</td>' in row.replace("\n", "").replace("      ", "")
    )
    # The SMS report does not list it.
    assert rows(client.get("/reports/")) == []
    assert client.get(f"/reports/campaigns/{c.pk}/").status_code == 200


def test_a_channel_apps_reports_url_leads_to_its_report_once_registered(
    rf, user, voice_like_channel
):
    from reports.urls import channel_reports_view

    request = rf.get("/voice/reports/")
    request.user = user
    assert channel_reports_view("testvoice")(request).url == "/reports/testvoice/"
    assert channel_reports_view("nochannel")(request).url == (
        "/section/nochannel-reports/"
    )


def test_next_page_by_htmx_returns_only_the_table(
    user, client_for, launch, monkeypatch
):
    from reports import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 1)
    first, second = launch(user), launch(user)
    client = client_for(user)
    body = client.get("/reports/").content.decode()
    nxt = body.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    part = client.get("/reports/" + nxt, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part and part.lstrip().startswith('<div id="report-body">')
    assert f'data-campaign="{first.pk}"' in part
    assert f'data-campaign="{second.pk}"' not in part


def test_a_scheduled_campaign_without_messages_yet_is_deferred(user, client_for):
    c = Campaign.objects.create(
        account=user.account,
        channel="sms",
        text="Позже",
        status="scheduled",
        send_at=timezone.now() + timedelta(days=2),
    )
    assert rows(client_for(user).get("/reports/sms/deferred/")) == [c.pk]


def test_a_status_column_header_filters_by_that_status(user, client_for, launch):
    launch(user, ["+79161234567"], tags=["a"])
    b = launch(user, ["+79161230000"], tags=["a"])
    client = client_for(user)
    body = client.get("/reports/?tag=a").content.decode()
    head = body.split('data-column="undelivered"')[1].split("</th>")[0]
    link = head.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert link == "?tag=a&status=undelivered"
    assert rows(client.get("/reports/" + link)) == [b.pk]


def test_the_total_stops_counting_at_the_cap(user, client_for, launch, monkeypatch):
    from reports import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for _ in range(3):
        launch(user)
    body = client_for(user).get("/reports/").content.decode()
    assert "Показано 3 записи из более чем 2" in body
