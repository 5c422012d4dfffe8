import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from billing.models import Invoice, LedgerEntry, Requisites
from billing.selectors import ledger_sum, reconciliation_act
from billing.services import invoice_create, ledger_post
from billing.validators import inn_is_valid, validate_kpp
from cabinet.models import Account


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize(
    "inn,ok",
    [
        ("7707083893", True),
        ("7707083894", False),
        ("500100732259", True),
        ("500100732258", False),
        ("12345", False),
        ("77070838931", False),
        ("77О7083893", False),
    ],
)
def test_inn_checksums(inn, ok):
    assert inn_is_valid(inn) is ok


@pytest.mark.parametrize(
    "kpp,ok",
    [
        ("773601001", True),
        ("7736AB001", True),
        ("77360100", False),
        ("7736ab001", False),
    ],
)
def test_kpp_format(kpp, ok):
    from django.core.exceptions import ValidationError

    if ok:
        validate_kpp(kpp)
    else:
        with pytest.raises(ValidationError):
            validate_kpp(kpp)


def test_requisites_are_saved_when_valid(client_for, user, requisites_data):
    resp = client_for(user).post("/billing/documents/requisites/", requisites_data)
    assert resp.status_code == 302
    assert Requisites.objects.get(account=user.account).inn == "7707083893"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("inn", "7707083894", "не сходится контрольное число"),
        ("inn", "123", "ИНН состоит из 10"),
        ("kpp", "77-3601", "КПП — 9 символов"),
        ("kpp", "", "КПП обязателен"),
        ("bic", "123456789", "начинается с 04"),
        ("settlement_account", "40702810038000000001", "контрольный ключ"),
        ("correspondent_account", "30101810400000000226", "контрольный ключ"),
        ("settlement_account", "4070", "20 цифр"),
    ],
)
def test_bad_requisites_are_refused_with_a_clear_error(
    client_for, user, requisites_data, field, value, message
):
    resp = client_for(user).post(
        "/billing/documents/requisites/", {**requisites_data, field: value}
    )
    assert resp.status_code == 400
    assert message in resp.content.decode()
    assert not Requisites.objects.exists()


def test_an_invoice_needs_requisites(client_for, user):
    resp = client_for(user).post("/billing/pay/invoice/", {"invoice-amount": "20000"})
    assert resp.status_code == 400
    assert "заполните реквизиты" in resp.content.decode()
    assert not Invoice.objects.exists()


def test_invoice_pdf_has_cyrillic_text(client_for, user, with_requisites):
    client = client_for(user)
    assert (
        client.post("/billing/pay/invoice/", {"invoice-amount": "20000"}).status_code
        == 302
    )
    invoice = Invoice.objects.get()
    assert invoice.status == "unpaid" and invoice.payer["inn"] == "7707083893"
    resp = client.get(f"/billing/invoices/{invoice.pk}/pdf/")
    assert resp["Content-Type"] == "application/pdf"
    text = pdf_text(resp.content)
    assert f"Счёт на оплату № {invoice.number}" in text
    assert "ООО «Ромашка»" in text
    assert "Двадцать тысяч рублей 00 копеек" in text
    html = client.get("/billing/documents/").content.decode()
    assert invoice.number in html and "Не оплачено" in html


def test_staff_mark_an_invoice_paid_once(client, user, staff, with_requisites):
    from cabinet.models import User
    from messaging.models import Message

    User.objects.filter(pk=user.pk).update(phone="+79161234567")
    invoice = invoice_create(account=user.account, amount=Decimal("2500"))
    client.force_login(staff)
    for _ in range(2):
        resp = client.post(
            "/admin/billing/invoice/",
            {"action": "mark_paid", "_selected_action": [invoice.pk]},
        )
        assert resp.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.paid_by == staff
    assert Account.objects.get(pk=user.account_id).balance == Decimal("3500.00")
    assert LedgerEntry.objects.filter(reference=f"invoice:{invoice.pk}").count() == 1
    assert any(invoice.number in m.subject for m in mail.outbox)
    assert (
        Message.objects.filter(
            phone="+79161234567", text__contains=invoice.number
        ).count()
        == 1
    )


def test_foreign_invoices_are_404_in_views_and_api(
    client_for, api_client_for, user, other_user, requisites_data
):
    Requisites.objects.create(account=other_user.account, **requisites_data)
    foreign = invoice_create(account=other_user.account, amount=Decimal("100"))
    assert (
        client_for(user).get(f"/billing/invoices/{foreign.pk}/pdf/").status_code == 404
    )
    api = api_client_for(user)
    assert api.get(f"/api/v1/invoices/{foreign.pk}/").status_code == 404
    assert api.get("/api/v1/invoices/").json()["results"] == []


def test_api_issues_invoices(api_client_for, user, with_requisites):
    api = api_client_for(user)
    resp = api.post("/api/v1/invoices/", {"amount": "1500.00"}, format="json")
    assert resp.status_code == 201, resp.json()
    assert resp.json()["status"] == "unpaid"
    resp = api.post("/api/v1/invoices/", {"amount": "1"}, format="json")
    assert resp.status_code == 400


def _entry_on(user, amount, day: dt.date, kind="charge", service="sms", reason="x"):
    entry = ledger_post(
        account_id=user.account_id,
        amount=Decimal(amount),
        kind=kind,
        reason=reason,
        service=service if kind in ("charge", "refund") else "",
    )
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(13, 0)))
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=moment)
    return entry


@pytest.fixture
def dated_history(user):
    LedgerEntry.objects.filter(account_id=user.account_id).update(
        created_at=timezone.make_aware(dt.datetime(2026, 1, 5, 10, 0))
    )  # the initial 1000
    _entry_on(user, "-120.50", dt.date(2026, 2, 1))
    _entry_on(user, "-30", dt.date(2026, 3, 2))
    _entry_on(user, "10", dt.date(2026, 3, 2), kind="refund")
    _entry_on(
        user, "700", dt.date(2026, 3, 10), kind="payment", reason="Оплата по счёту № 1"
    )
    _entry_on(user, "-44.40", dt.date(2026, 3, 31), service="viber")
    _entry_on(user, "-5", dt.date(2026, 4, 1))


def test_reconciliation_act_balances_agree_with_the_ledger(user, dated_history):
    act = reconciliation_act(
        account_id=user.account_id,
        date_from=dt.date(2026, 3, 1),
        date_to=dt.date(2026, 3, 31),
    )
    entries = LedgerEntry.objects.filter(account_id=user.account_id).order_by(
        "created_at", "id"
    )
    before = [
        e for e in entries if timezone.localdate(e.created_at) < dt.date(2026, 3, 1)
    ]
    inside = [
        e
        for e in entries
        if dt.date(2026, 3, 1)
        <= timezone.localdate(e.created_at)
        <= dt.date(2026, 3, 31)
    ]
    assert act.opening == before[-1].balance_after == Decimal("879.50")
    assert act.closing == inside[-1].balance_after == Decimal("1515.10")
    assert act.debit_total == Decimal("64.40") and act.credit_total == Decimal("700.00")
    # Over all time the act closes at the balance.
    whole = reconciliation_act(
        account_id=user.account_id,
        date_from=dt.date(2025, 1, 1),
        date_to=timezone.localdate(),
    )
    assert whole.opening == 0
    assert (
        whole.closing
        == ledger_sum(account_id=user.account_id)
        == Account.objects.get(pk=user.account_id).balance
    )


def test_reconciliation_act_downloads_as_pdf_and_xlsx(
    client_for, user, dated_history, with_requisites
):
    client = client_for(user)
    q = "date_from=2026-03-01&date_to=2026-03-31"
    pdf = client.get(f"/billing/documents/act/download/?{q}&format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Акт сверки взаимных расчётов" in text and "ООО «Ромашка»" in text
    assert "879,50" in text and "1 515,10" in text
    xlsx = client.get(f"/billing/documents/act/download/?{q}&format=xlsx")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(
            values_only=True
        )
    )
    assert rows[2][1] == "Сальдо начальное" and Decimal(str(rows[2][3])) == Decimal(
        "879.50"
    )
    assert rows[-1][1] == "Сальдо конечное" and Decimal(str(rows[-1][3])) == Decimal(
        "1515.10"
    )


def test_act_with_a_bad_range_shows_an_error(client_for, user):
    resp = client_for(user).get(
        "/billing/documents/act/download/?date_from=2026-03-31&date_to=2026-03-01"
    )
    assert resp.status_code == 400
    assert "Начало периода позже его конца." in resp.content.decode()


def test_invoice_and_payment_lists_have_fixed_query_counts(
    client_for, user, with_requisites, django_assert_max_num_queries
):
    from billing.models import Payment

    for i in range(25):
        invoice_create(account=user.account, amount=Decimal(100 + i))
        Payment.objects.create(
            account=user.account, method="card", amount=Decimal("50"), token=f"t{i}"
        )
    client = client_for(user)
    for url in ("/billing/documents/", "/billing/pay/"):
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200


def test_the_act_xlsx_writes_texts_as_text_never_as_formulas():
    """openpyxl turns a string starting with "=" into a formula; the act's
    texts go in as text cells (cabinet.spreadsheets.xlsx_text)."""
    import zipfile

    from billing.documents import act_xlsx
    from billing.selectors import Act

    hostile = "=HYPERLINK(\"http://evil.example\",\"Оплата\")"
    act = Act(
        account_id=1,
        date_from=dt.date(2026, 3, 1),
        date_to=dt.date(2026, 3, 31),
        opening=Decimal("0"),
        closing=Decimal("100"),
        rows=[{"date": dt.date(2026, 3, 2), "description": hostile, "amount": 100}],
        debit_total=Decimal("0"),
        credit_total=Decimal("100"),
        requisites={},
    )
    data = act_xlsx(act)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet
    rows = list(
        openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
    )
    assert rows[3][1] == hostile
