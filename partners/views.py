"""The «Партнерство» pages (manual section 8) and the referral link."""

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billing.forms import default_period
from cabinet.permissions import BILLING, cabinet_view
from cabinet.xlsx import XLSX_TYPE, stream_xlsx

from . import selectors, services
from .forms import ServicesForm, WithdrawalForm
from .models import MIN_WITHDRAWAL, Partner


def _common(request) -> dict:
    account = request.account
    partner = services.partner_for(account=account)
    return {
        "partner": partner,
        "link": request.build_absolute_uri(
            reverse("partners:link", args=[partner.code])
        ),
        "balance": services.reward_balance(account_id=account.pk),
        "clients_count": selectors.clients_count(account_id=account.pk),
        "min_withdrawal": MIN_WITHDRAWAL,
    }


def _withdraw(request, form):
    """A withdrawal from a POSTed form; True when it was made."""
    if not form.is_valid():
        return False
    d = form.cleaned_data
    try:
        row = services.withdrawal_request(
            account=request.account,
            user=request.user,
            amount=d["amount"],
            method=d["method"],
            details=d["details"],
        )
    except services.PartnerError as exc:
        form.add_error(None, str(exc))
        return False
    if row.method == row.Method.BALANCE:
        messages.success(
            request, _("%(a)s ₽ зачислено на баланс аккаунта.") % {"a": row.amount}
        )
    else:
        messages.success(
            request,
            _("Заявка на вывод № %(id)s принята, статус — «На рассмотрении».")
            % {"id": row.pk},
        )
    return True


@cabinet_view(BILLING)
def overview(request):
    form = WithdrawalForm(request.POST or None)
    if request.method == "POST" and _withdraw(request, form):
        return redirect("partners:overview")
    ctx = _common(request)
    ctx.update(
        form=form,
        rates=selectors.rates(),
        earned=selectors.earned_total(account_id=request.account.pk),
    )
    return render(
        request, "partners/overview.html", ctx, status=400 if form.errors else 200
    )


@cabinet_view(BILLING)
def withdrawals(request):
    form = WithdrawalForm(request.POST or None)
    if request.method == "POST" and _withdraw(request, form):
        return redirect("partners:withdrawals")
    ctx = _common(request)
    ctx.update(
        form=form, rows=selectors.withdrawals(account_id=request.account.pk)[:200]
    )
    return render(
        request, "partners/withdrawals.html", ctx, status=400 if form.errors else 200
    )


@cabinet_view()
def clients(request):
    rows = selectors.clients(account_id=request.account.pk)
    if request.GET.get("format") == "xlsx":
        return _xlsx(
            "partner_clients.xlsx",
            title=_("Клиенты"),
            header=[
                _("ID"),
                _("Организация"),
                _("Дата регистрации"),
                _("Последняя оплата"),
                _("Сумма оплаты, ₽"),
            ],
            rows=(
                [
                    r.client_id,
                    r.client.name,
                    r.client.created_at,
                    r.last_payment_at,
                    r.last_payment_amount,
                ]
                for r in rows.iterator(chunk_size=2000)
            ),
        )
    ctx = _common(request)
    ctx["rows"] = rows[:500]
    return render(request, "partners/clients.html", ctx)


@cabinet_view()
def services_view(request):
    form = ServicesForm(request.GET)
    valid = form.is_valid()
    data = form.cleaned_data if valid else default_period()
    rows = selectors.services_rendered(
        account_id=request.account.pk,
        date_from=data["date_from"],
        date_to=data["date_to"],
    )
    if request.GET.get("format") == "xlsx" and valid:
        return _xlsx(
            f"partner_services_{data['date_from']:%Y%m%d}-{data['date_to']:%Y%m%d}.xlsx",
            title=_("Оказанные услуги"),
            header=[
                _("Дата"),
                _("ID клиента"),
                _("Организация"),
                _("Услуга"),
                _("Описание"),
                _("Сумма, ₽"),
                _("Процент"),
                _("Вознаграждение, ₽"),
            ],
            rows=(
                [
                    r.created_at,
                    r.client_id,
                    r.client.name,
                    selectors.label(r.service),
                    r.entry.reason,
                    -r.base,
                    r.percent,
                    r.amount,
                ]
                for r in rows.iterator(chunk_size=2000)
            ),
        )
    ctx = _common(request)
    ctx.update(
        form=form,
        data=data,
        rows=rows[:500],
        totals=selectors.services_totals(
            account_id=request.account.pk,
            date_from=data["date_from"],
            date_to=data["date_to"],
        ),
    )
    return render(request, "partners/services.html", ctx, status=200 if valid else 400)


def _xlsx(filename, *, title, header, rows):
    response = StreamingHttpResponse(
        stream_xlsx(title=str(title), header=[str(h) for h in header], rows=rows),
        content_type=XLSX_TYPE,
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def referral_link(request, code: str):
    """The partner's link: remembers the partner in a signed cookie through
    the registration form, then opens it.  A partner's own link, or an
    unknown code, sets nothing."""
    partner = Partner.objects.filter(code=code[:16]).first()
    account = getattr(request, "account", None)
    if partner is None:
        messages.error(request, _("Реферальная ссылка недействительна."))
        return redirect("cabinet:register")
    if account is not None and account.pk == partner.account_id:
        messages.error(
            request,
            _(
                "Это ваша собственная реферальная ссылка: по ней регистрируются "
                "новые клиенты."
            ),
        )
        return redirect("partners:overview")
    target = (
        "cabinet:dashboard" if request.user.is_authenticated else "cabinet:register"
    )
    if not request.user.is_authenticated:
        messages.info(request, _("Вы регистрируетесь по приглашению партнёра."))
    response = redirect(target)
    response.set_cookie(
        services.COOKIE,
        services.cookie_value(partner.code),
        max_age=services.COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
    )
    return response
