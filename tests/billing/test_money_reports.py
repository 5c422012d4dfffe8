import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from billing.selectors import ledger_sum, services_rendered
from billing.services import ledger_post


def _at(entry, days_ago: int, hour: int = 12):
    moment = timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0)
    LedgerEntry.objects.filter(pk=entry.pk).update(
        created_at=moment - dt.timedelta(days=days_ago)
    )


@pytest.fixture
def history(user):
    aid = user.account_id
    e = []
    e.append(
        ledger_post(
            account_id=aid,
            amount=Decimal("-100"),
            kind="charge",
            reason="СМС 1",
            service="sms",
        )
    )
    e.append(
        ledger_post(
            account_id=aid,
            amount=Decimal("-40"),
            kind="charge",
            reason="СМС 2",
            service="sms",
        )
    )
    e.append(
        ledger_post(
            account_id=aid,
            amount=Decimal("15"),
            kind="refund",
            reason="Возврат",
            service="sms",
        )
    )
    e.append(
        ledger_post(
            account_id=aid,
            amount=Decimal("-30"),
            kind="charge",
            reason="Viber",
            service="viber",
        )
    )
    e.append(
        ledger_post(
            account_id=aid,
            amount=Decimal("500"),
            kind="payment",
            reason="Оплата картой",
        )
    )
    e.append(
        ledger_post(
            account_id=aid,
            amount=Decimal("-7"),
            kind="charge",
            reason="Старое",
            service="sms",
        )
    )
    for entry, days in zip(e, (1, 1, 1, 2, 1, 60), strict=True):
        _at(entry, days)
    return e


def test_services_rendered_groups_by_service_and_day_netting_refunds(user, history):
    today = timezone.localdate()
    report = services_rendered(
        account_id=user.account_id,
        date_from=today - dt.timedelta(days=10),
        date_to=today,
    )
    by = {(r["service"], r["period"].date()): r for r in report.rows}
    sms = by[("sms", today - dt.timedelta(days=1))]
    assert sms["amount"] == Decimal("125.00") and sms["operations"] == 2
    assert by[("viber", today - dt.timedelta(days=2))]["amount"] == Decimal("30.00")
    assert report.spent == Decimal("155.00")
    assert report.paid == Decimal("1500.00")  # the initial 1000 ₽ and the card payment
    assert "Рассылка СМС за" in sms["description"]


def test_services_page_shows_spent_and_paid(client_for, user, history):
    html = (
        client_for(user)
        .get("/billing/services/?group=month&payments=on")
        .content.decode()
    )
    assert "Потрачено" in html and "155,00" in html and "1500,00" in html
    assert "Оплата картой" in html


def test_ledger_page_filters_by_kind_and_period(client_for, user, history):
    client = client_for(user)
    html = client.get("/billing/ledger/").content.decode()
    assert "СМС 1" in html and "Старое" not in html  # last 30 days by default
    html = client.get("/billing/ledger/?kind=payment").content.decode()
    assert "Оплата картой" in html and "СМС 1" not in html
    old = timezone.localdate() - dt.timedelta(days=60)
    html = client.get(
        f"/billing/ledger/?date_from={old}&date_to={old}"
    ).content.decode()
    assert "Старое" in html and "СМС 1" not in html


def test_ledger_page_rejects_a_reversed_period_with_a_message(
    client_for, user, history
):
    resp = client_for(user).get(
        "/billing/ledger/?date_from=2026-05-02&date_to=2026-05-01"
    )
    assert resp.status_code == 200
    assert "Начало периода позже его конца." in resp.content.decode()


def test_ledger_xlsx_download_is_streamed_and_complete(client_for, user, history):
    resp = client_for(user).get("/billing/ledger/?kind=charge&format=xlsx")
    assert resp.streaming
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "Дата"
    reasons = {r[1] for r in rows[1:]}
    assert reasons == {"СМС 1", "СМС 2", "Viber"}
    assert sum(Decimal(str(r[3])) for r in rows[1:]) == Decimal("-170")


def test_ledger_page_query_count_does_not_grow(
    client_for, user, django_assert_max_num_queries
):
    for i in range(60):
        ledger_post(
            account_id=user.account_id,
            amount=Decimal("-1"),
            kind="charge",
            reason=f"c{i}",
            service="sms",
        )
    client = client_for(user)
    with django_assert_max_num_queries(12):
        assert client.get("/billing/ledger/").status_code == 200


def test_api_ledger_sums_to_the_balance_and_pages_by_cursor(
    api_client_for, user, history
):
    for i in range(7):
        ledger_post(
            account_id=user.account_id,
            amount=Decimal("-1.10"),
            kind="charge",
            reason=f"c{i}",
            service="sms",
        )
    api = api_client_for(user)
    total, seen, url = Decimal("0"), set(), "/api/v1/ledger/?limit=4"
    while url:
        body = api.get(url).json()
        for row in body["results"]:
            assert row["id"] not in seen
            seen.add(row["id"])
            total += Decimal(row["amount"])
        url = body["next"]
    assert len(seen) == LedgerEntry.objects.filter(account_id=user.account_id).count()
    assert total == Decimal(api.get("/api/v1/balance/").json()["balance"])
    assert total == ledger_sum(account_id=user.account_id)


def test_api_ledger_filters_and_rejects_bad_input(
    api_client_for, user, other_user, history
):
    api = api_client_for(user)
    rows = api.get("/api/v1/ledger/?kind=refund").json()["results"]
    assert [r["amount"] for r in rows] == ["15.00"]
    assert rows[0]["kind"] == "refund" and rows[0]["reason"] == "Возврат"
    old = timezone.localdate() - dt.timedelta(days=60)
    rows = api.get(f"/api/v1/ledger/?date_from={old}&date_to={old}").json()["results"]
    assert [r["reason"] for r in rows] == ["Старое"]
    bad = api.get("/api/v1/ledger/?date_from=вчера")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    bad = api.get("/api/v1/ledger/?kind=steal")
    assert bad.status_code == 400
    # Another account's entries are invisible.
    other = api_client_for(other_user).get("/api/v1/ledger/").json()["results"]
    assert {r["reason"] for r in other} == {"Начальный баланс"}
