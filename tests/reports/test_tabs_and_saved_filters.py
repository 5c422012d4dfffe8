import json
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Unsubscribe
from messaging import registry
from messaging.models import Campaign
from reports.filters import ReportFilterForm
from reports.models import SavedFilter
from reports.selectors import chart_data

pytestmark = pytest.mark.django_db


def test_every_tab_is_there_and_keeps_the_filters(user, client_for, launch):
    launch(user)
    body = client_for(user).get("/reports/sms/?tag=x").content.decode()
    for label, url in (
        ("Рассылки", "/reports/sms/?tag=x"),
        ("Отложенные рассылки", "/reports/sms/deferred/?tag=x"),
        ("Все сообщения", "/reports/sms/messages/?tag=x"),
        ("Графики", "/reports/sms/charts/?tag=x"),
        ("По способу отправки", "/reports/sms/sources/?tag=x"),
        ("Отписавшиеся", "/reports/sms/unsubscribed/?tag=x"),
    ):
        assert f'href="{url}"' in body and label in body


def test_all_messages_tab_lists_messages_with_filters(user, client_for, launch):
    launch(user, ["+79161234567"], text="Первое")
    launch(user, ["+79161230000"], text="Второе")
    client = client_for(user)
    body = client.get("/reports/sms/messages/").content.decode()
    assert body.count('data-message="') == 2
    body = client.get("/reports/sms/messages/?status=undelivered").content.decode()
    assert body.count('data-message="') == 1 and "Второе" in body
    body = client.get("/reports/sms/messages/?q=Перв").content.decode()
    assert body.count('data-message="') == 1 and "Первое" in body


def test_all_messages_query_count_is_pinned(
    user, client_for, launch, django_assert_max_num_queries
):
    for i in range(5):
        launch(user, [f"+7916123450{i}", "+79161230000"])
    client = client_for(user)
    client.get("/")
    with django_assert_max_num_queries(8):
        body = client.get("/reports/sms/messages/").content.decode()
    assert body.count('data-message="') == 10


def test_by_sending_method_tab_sums_campaigns_per_source(user, client_for, launch):
    launch(user, ["+79161234567", "+79161230000"], source="api")
    launch(user, ["+79161234568"], source="api")
    launch(user, ["+79161234569"])
    body = client_for(user).get("/reports/sms/sources/").content.decode()
    api_row = body.split('data-source="api"')[1].split("</tr>")[0]
    assert "API" in api_row and "source=api" in api_row
    cost = sum(c.cost for c in Campaign.objects.filter(source="api"))
    assert f"{cost}".replace(".", ",") + "&nbsp;₽" in api_row
    assert '<td class="num">2</td><td class="num total">3</td>' in api_row
    cabinet_row = body.split('data-source="cabinet"')[1].split("</tr>")[0]
    assert '<td class="num">1</td><td class="num total">1</td>' in cabinet_row


def test_charts_by_day_status_cost_and_channel(user, launch):
    today = launch(user, ["+79161234567", "+79161230000"])
    old = launch(user, ["+79161234568"], days_ago=3)
    form = ReportFilterForm(None, kind=registry.get_channel("sms"))
    data = chart_data(
        account_id=user.account_id,
        filters=form.filters(),
        kind=registry.get_channel("sms"),
    )
    assert len(data["days"]) == 30
    assert data["days"][-1] == timezone.localdate().strftime("%d.%m")
    assert (
        data["series"]["delivered"][-1] == 1 and data["series"]["undelivered"][-1] == 1
    )
    assert data["series"]["delivered"][-4] == 1
    assert data["cost"][-1] == float(today.cost) and data["cost"][-4] == float(old.cost)
    (sms,) = data["channels"]
    assert sms["channel"] == "sms" and sms["messages"] == 3
    assert sms["cost"] == pytest.approx(float(today.cost + old.cost))


def test_charts_page_renders_the_data_and_chart_js(
    user, client_for, launch, django_assert_max_num_queries
):
    launch(user, ["+79161234567"])
    client = client_for(user)
    client.get("/")
    with django_assert_max_num_queries(10):
        body = client.get("/reports/sms/charts/?period=7").content.decode()
    assert "vendor/chart.umd.min.js" in body
    data = json.loads(
        body.split('id="chart-data" type="application/json">')[1].split("</script>")[0]
    )
    assert len(data["days"]) == 7 and sum(data["series"]["delivered"]) == 1


def test_unsubscribed_tab_lists_this_channels_unsubscribes(
    user, other_user, client_for
):
    Unsubscribe.objects.create(
        account=user.account, phone="+79161234567", channel="sms", sender="SHOP"
    )
    Unsubscribe.objects.create(
        account=user.account, phone="+79161234568", channel="viber", sender="SHOP"
    )
    Unsubscribe.objects.create(
        account=other_user.account, phone="+79161234569", channel="sms", sender="SHOP"
    )
    body = client_for(user).get("/reports/sms/unsubscribed/").content.decode()
    assert "+79161234567" in body
    assert "+79161234568" not in body and "+79161234569" not in body


def test_saved_filters_are_shared_by_the_accounts_users(
    user, make_user, other_user, client_for, launch
):
    launch(user, tags=["обувь"])
    client = client_for(user)
    response = client.post(
        "/reports/sms/filters/",
        {
            "name": "Обувь",
            "tag": "обувь",
            "period": "7",
            "cursor": "abc",
            "tab": "campaigns",
        },
    )
    assert response.status_code == 302
    assert response.url == "/reports/sms/?period=7&tag=%D0%BE%D0%B1%D1%83%D0%B2%D1%8C"
    saved = SavedFilter.objects.get()
    assert saved.query == "period=7&tag=%D0%BE%D0%B1%D1%83%D0%B2%D1%8C"
    colleague = make_user(account=user.account, role="operator")
    body = client_for(colleague).get("/reports/").content.decode()
    assert 'href="?' + saved.query.replace("&", "&amp;") + '"' in body
    assert "★ Обувь" in body
    assert "★ Обувь" not in client_for(other_user).get("/reports/").content.decode()
    # The same name overwrites.
    client_for(user).post("/reports/sms/filters/", {"name": "Обувь", "tag": "обувь"})
    assert SavedFilter.objects.get().query == "tag=%D0%BE%D0%B1%D1%83%D0%B2%D1%8C"


def test_saving_a_filter_needs_a_name_and_some_filters(user, client_for):
    client = client_for(user)
    response = client.post(
        "/reports/sms/filters/", {"name": "", "tag": "x"}, follow=True
    )
    assert "Введите название фильтра" in response.content.decode()
    response = client.post("/reports/sms/filters/", {"name": "Пусто"}, follow=True)
    assert "Нет фильтров для сохранения" in response.content.decode()
    assert not SavedFilter.objects.exists()


def test_deleting_a_saved_filter_and_a_foreign_one_is_a_404(
    user, other_user, client_for
):
    mine = SavedFilter.objects.create(
        account=user.account, channel="sms", name="A", query="tag=a"
    )
    theirs = SavedFilter.objects.create(
        account=other_user.account, channel="sms", name="B", query="tag=b"
    )
    client = client_for(user)
    assert client.post(f"/reports/sms/filters/{theirs.pk}/delete/").status_code == 404
    assert client.post(f"/reports/sms/filters/{mine.pk}/delete/").status_code == 302
    assert list(SavedFilter.objects.values_list("name", flat=True)) == ["B"]


def test_a_read_only_user_sees_reports_but_cannot_save_filters(
    user, make_user, client_for, launch
):
    launch(user)
    reader = make_user(account=user.account, role="readonly")
    client = client_for(reader)
    assert client.get("/reports/").status_code == 200
    assert (
        client.post("/reports/sms/filters/", {"name": "A", "tag": "x"}).status_code
        == 403
    )
    assert not SavedFilter.objects.exists()


def test_campaigns_tab_and_deferred_tab_show_campaign_send_time(
    user, client_for, launch
):
    c = launch(user, send_at=timezone.now() + timedelta(hours=5))
    assert Campaign.objects.get(pk=c.pk).send_at
    body = client_for(user).get("/reports/sms/deferred/").content.decode()
    assert "отправка " + timezone.localtime(c.send_at).strftime("%d.%m.%Y") in body


def test_the_status_filter_keeps_only_its_series_in_the_charts(user, launch):
    launch(user, ["+79161234567", "+79161230000"])
    kind = registry.get_channel("sms")
    form = ReportFilterForm({"status": "undelivered"}, kind=kind)
    data = chart_data(account_id=user.account_id, filters=form.filters(), kind=kind)
    assert sum(data["series"]["undelivered"]) == 1
    assert sum(data["series"]["delivered"]) == 0


def test_all_messages_tab_exports_to_excel_with_its_filters(
    user, other_user, client_for, launch, monkeypatch
):
    from reports import exports
    from tests.reports.test_campaign_detail import sheet

    monkeypatch.setattr(exports, "CHUNK", 2)  # several keyset pages
    first = launch(user, ["+79161234567", "+79161234568"], text="Первое")
    second = launch(user, ["+79161230000", "+79161234569"], text="Второе")
    launch(other_user, ["+79161234560"], text="Чужое")
    client = client_for(user)
    body = client.get("/reports/sms/messages/?q=Втор").content.decode()
    assert 'href="/reports/sms/messages/export/?q=%D0%92%D1%82%D0%BE%D1%80"' in body
    data = sheet(client.get("/reports/sms/messages/export/"))
    assert data[0][:4] == ("Рассылка", "Дата отправки", "Дата создания", "Отправитель")
    assert sorted(r[0] for r in data[1:]) == [first.pk] * 2 + [second.pk] * 2
    assert {r[4] for r in data[1:]} == {"Первое", "Второе"}
    data = sheet(client.get("/reports/sms/messages/export/?status=undelivered"))
    assert [(r[0], r[5]) for r in data[1:]] == [(second.pk, "+79161230000")]
    assert data[1][8] == "Не доставлено"
