"""Finance pages (Финансы): pay, money movement, services rendered, documents,
tariffs; and the fake acquirer's hosted page and callback endpoint."""

from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseForbidden,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cabinet.permissions import BILLING, cabinet_view

from . import documents, selectors, services
from .acquirer import WALLETS, AcquirerError, card_payments_enabled, get_acquirer
from .forms import (
    ActForm,
    AmountForm,
    CardForm,
    LedgerFilterForm,
    RequisitesForm,
    ServicesFilterForm,
    TariffSliderForm,
    WalletForm,
    default_period,
)
from .models import Payment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _htmx_fragment(request) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.boosted


# --- pay (M3) -----------------------------------------------------------------


def _pay_context(request, **extra):
    account_id = request.account.pk
    return {
        "requisites": selectors.requisites_for(account_id=account_id),
        "invoices": selectors.invoices(account_id=account_id)[:20],
        "payments": selectors.payments(account_id=account_id)[:20],
        "invoice_form": AmountForm(prefix="invoice"),
        "card_form": AmountForm(prefix="card"),
        "wallet_form": WalletForm(prefix="wallet"),
        "card_payments": card_payments_enabled(),
        **extra,
    }


@cabinet_view(BILLING)
def pay(request):
    return render(request, "billing/pay.html", _pay_context(request))


@require_POST
@cabinet_view(BILLING)
def invoice_create(request):
    form = AmountForm(request.POST, prefix="invoice")
    if form.is_valid():
        try:
            invoice = services.invoice_create(
                account=request.account,
                amount=form.cleaned_data["amount"],
                created_by=request.user,
            )
        except services.BillingError as exc:
            form.add_error("amount", str(exc))
        else:
            messages.success(
                request, _("Счёт № %(n)s выставлен.") % {"n": invoice.number}
            )
            return redirect("billing:pay")
    return render(
        request,
        "billing/pay.html",
        _pay_context(request, invoice_form=form),
        status=400,
    )


@require_POST
@cabinet_view(BILLING)
def payment_start(request, method):
    if method not in Payment.Method.values:
        raise Http404
    form_class, prefix = (
        (AmountForm, "card") if method == "card" else (WalletForm, "wallet")
    )
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            payment = services.payment_create(
                account=request.account,
                amount=form.cleaned_data["amount"],
                method=method,
                wallet=form.cleaned_data.get("wallet", ""),
                created_by=request.user,
            )
        except services.BillingError as exc:
            form.add_error("amount", str(exc))
        else:
            return redirect(get_acquirer().hosted_page_url(token=payment.token))
    return render(
        request,
        "billing/pay.html",
        _pay_context(request, **{f"{prefix}_form": form}),
        status=400,
    )


@cabinet_view()
def payment_return(request, token):
    payment = selectors.payment_by_token(account_id=request.account.pk, token=token)
    template = "billing/payment_return.html"
    if _htmx_fragment(request):
        template += "#status"
    return render(request, template, {"payment": payment})


# --- the fake acquirer's hosted page and our callback endpoint ----------------


def acquirer_page(request, token):
    """Simulates the acquirer's payment page (no cabinet session needed, as on a
    real acquirer's domain).  Paying here makes the acquirer call us back."""
    if not card_payments_enabled():
        raise Http404
    payment = get_object_or_404(Payment, token=token)
    if payment.status != Payment.Status.PENDING:
        return redirect("billing:payment_return", token=token)
    acquirer = get_acquirer()
    form = CardForm(request.POST or None) if payment.method == "card" else None
    error = ""
    if request.method == "POST":
        try:
            if payment.method == "card":
                if form.is_valid():
                    d = form.cleaned_data
                    acquirer.pay_card(
                        token=token,
                        amount=payment.amount,
                        number=d["number"],
                        exp=d["exp"],
                        cvc=d["cvc"],
                    )
                    return redirect("billing:payment_return", token=token)
            else:
                acquirer.pay_wallet(
                    token=token,
                    amount=payment.amount,
                    wallet=payment.wallet,
                    approve=request.POST.get("decision") == "approve",
                )
                return redirect("billing:payment_return", token=token)
        except AcquirerError as exc:
            error = str(exc)
    return render(
        request,
        "billing/acquirer_page.html",
        {
            "payment": payment,
            "form": form,
            "error": error,
            "wallet_name": WALLETS.get(payment.wallet, ""),
        },
        status=400 if request.method == "POST" else 200,
    )


@csrf_exempt
@require_POST
def acquirer_callback(request):
    try:
        result = services.payment_callback_process(
            body=request.body, signature=request.headers.get("X-Signature", "")
        )
    except services.CallbackRejected as exc:
        return HttpResponseForbidden(str(exc))
    return HttpResponse(result, content_type="text/plain")


# --- money movement (M2) ------------------------------------------------------


@cabinet_view()
def ledger(request):
    form = LedgerFilterForm(request.GET)
    valid = form.is_valid()
    data = form.cleaned_data if valid else default_period()
    entries = selectors.ledger_filtered(
        account_id=request.account.pk,
        date_from=data["date_from"],
        date_to=data["date_to"],
        kinds=data.get("kind") or None,
    )
    if request.GET.get("format") == "xlsx" and valid:
        response = StreamingHttpResponse(
            documents.ledger_xlsx_stream(entries.iterator(chunk_size=2000)),
            content_type=XLSX,
        )
        response["Content-Disposition"] = (
            f'attachment; filename="ledger_{data["date_from"]:%Y%m%d}-'
            f'{data["date_to"]:%Y%m%d}.xlsx"'
        )
        return response
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "billing/ledger.html",
        {
            "form": form,
            "page": page,
            "data": data,
            "query": query.urlencode(),
        },
    )


# --- services rendered (M1) ---------------------------------------------------


@cabinet_view()
def services_rendered(request):
    form = ServicesFilterForm(request.GET)
    data = (
        form.cleaned_data if form.is_valid() else {**default_period(), "group": "day"}
    )
    report = selectors.services_rendered(
        account_id=request.account.pk,
        date_from=data["date_from"],
        date_to=data["date_to"],
        group=data.get("group") or "day",
        with_payments=bool(data.get("payments")),
    )
    return render(
        request, "billing/services.html", {"form": form, "report": report, "data": data}
    )


# --- documents (M6) -----------------------------------------------------------


@cabinet_view(BILLING)
def documents_page(request, tab="invoices"):
    if tab not in ("invoices", "requisites", "act"):
        raise Http404
    account = request.account
    requisites = selectors.requisites_for(account_id=account.pk)
    form = RequisitesForm(request.POST or None, instance=requisites)
    status = 200
    if request.method == "POST":
        tab = "requisites"
        if form.is_valid():
            services.requisites_save(account=account, data=form.cleaned_data)
            messages.success(request, _("Реквизиты сохранены."))
            return redirect("billing:documents_tab", tab="requisites")
        status = 400
    page = Paginator(selectors.invoices(account_id=account.pk), 30).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    act_form = ActForm(initial={"date_from": today.replace(day=1), "date_to": today})
    return render(
        request,
        "billing/documents.html",
        {
            "tab": tab,
            "form": form,
            "requisites": requisites,
            "page": page,
            "act_form": act_form,
        },
        status=status,
    )


@cabinet_view()
def invoice_pdf(request, pk):
    invoice = selectors.invoice_get(account_id=request.account.pk, pk=pk)
    response = HttpResponse(
        documents.invoice_pdf(invoice), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="invoice_{invoice.number}.pdf"'
    return response


@cabinet_view()
def act_download(request):
    form = ActForm(request.GET)
    if not form.is_valid():
        requisites = selectors.requisites_for(account_id=request.account.pk)
        page = Paginator(
            selectors.invoices(account_id=request.account.pk), 30
        ).get_page(1)
        return render(
            request,
            "billing/documents.html",
            {
                "tab": "act",
                "act_form": form,
                "requisites": requisites,
                "page": page,
                "form": RequisitesForm(instance=requisites),
            },
            status=400,
        )
    d = form.cleaned_data
    act = selectors.reconciliation_act(
        account_id=request.account.pk, date_from=d["date_from"], date_to=d["date_to"]
    )
    name = f"akt_sverki_{d['date_from']:%Y%m%d}-{d['date_to']:%Y%m%d}"
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(documents.act_xlsx(act), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    else:
        response = HttpResponse(documents.act_pdf(act), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    return response


# --- tariffs (M8) -------------------------------------------------------------


@cabinet_view()
def tariffs(request, channel="sms"):
    channels = selectors.tariff_channels()
    if channel not in channels and channel != "sms":
        raise Http404
    account = request.account
    form = TariffSliderForm(request.GET or None)
    balance = account.balance
    if form.is_valid() and form.cleaned_data.get("balance") is not None:
        balance = form.cleaned_data["balance"]
    table = selectors.tariff_table(channel=channel, balance=balance)
    tier_rows = table.tier_rows
    top = tier_rows[-1].min_balance if tier_rows else Decimal("0")
    context = {
        "channel": channel,
        "channels": channels,
        "table": table,
        "form": form,
        "balance": balance,
        "slider_max": max(top * Decimal("1.5"), balance, Decimal("1000")),
        "account_tier": selectors.account_tier(account),
        "pinned": account.tariff_tier is not None,
        "channel_label": selectors.service_label(channel),
    }
    template = "billing/tariffs.html"
    if _htmx_fragment(request):
        template += "#table"
    return render(request, template, context)


def payment_return_url(token: str) -> str:
    return reverse("billing:payment_return", args=[token])
