"""Report pages (R1–R8), one set for every channel in the registry: the URL
names the channel, the channel's ``columns`` give the status columns."""

from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from cabinet.formats import money
from cabinet.permissions import CONTACTS, SEND, cabinet_view, can
from messaging import registry
from messaging.models import Campaign

from . import exports, selectors, services
from .filters import ReportFilterForm, chips, query_string
from .forms import RecipientsExportForm, SaveFilterForm
from .models import SavedFilter

TABS = (
    ("campaigns", "reports:channel_campaigns", gettext_lazy("Рассылки")),
    ("deferred", "reports:deferred", gettext_lazy("Отложенные рассылки")),
    ("messages", "reports:messages", gettext_lazy("Все сообщения")),
    ("charts", "reports:charts", gettext_lazy("Графики")),
    ("sources", "reports:sources", gettext_lazy("По способу отправки")),
    ("unsubscribed", "reports:unsubscribed", gettext_lazy("Отписавшиеся")),
    # Only for channels whose recipients answer (``ChannelKind.replies``).
    ("replies", "reports:replies", gettext_lazy("Ответы")),
)
TAB_URLS = {code: url for code, url, _label in TABS}
# The send form of each channel, for "Повторить рассылку" (R5).
SEND_URLS = {"sms": "messaging:sms_send"}


def _kind(channel: str):
    try:
        return registry.get_channel(channel)
    except LookupError:
        raise Http404 from None


def _template(request, name: str, partial: str = "body") -> str:
    if request.htmx and not request.htmx.boosted:
        return f"{name}#{partial}"
    return name


def _report(request, kind, tab: str, *, default_period: str = "30") -> dict:
    """What every tab shows: tabs, filters (form, chips, dialog), saved filters."""
    form = ReportFilterForm(
        request.GET or None, kind=kind, default_period=default_period
    )
    filters = form.filters()
    query = query_string(request.GET)
    tabs = [
        {
            "code": code,
            "label": label,
            "href": reverse(url, args=[kind.code]) + (f"?{query}" if query else ""),
            "active": code == tab,
        }
        for code, url, label in TABS
        if code != "replies" or kind.replies is not None
    ]
    return {
        "kind": kind,
        "columns": kind.columns,
        "tab": tab,
        "tabs": tabs,
        "form": form,
        "filters": filters,
        "chips": chips(form, filters, request.GET),
        "query": query,
        "query_no_tag": query_string(request.GET, drop=("tag",)),
        "query_no_source": query_string(request.GET, drop=("source",)),
        "query_no_status": query_string(request.GET, drop=("status",)),
        "saved": selectors.saved_filters(
            account_id=request.account.pk, channel=kind.code
        ),
        "channels": registry.all_channels(),
        "count_cap": selectors.COUNT_CAP,
        "save_form": SaveFilterForm(),
        "can_save": can(request.user, SEND),
        "filter_errors": [e for errs in form.errors.values() for e in errs]
        if form.is_bound
        else [],
    }


def _with_facts(kind, items):
    """Each message's line of channel facts (``ChannelKind.message_facts``:
    a call's listening share, seconds, digit)."""
    if kind.message_facts is not None:
        for m in items:
            m.facts = kind.message_facts(m.extra or {})
    return items


def _fragment(request) -> dict:
    """Dialog contents: alone for htmx, inside the cabinet layout otherwise."""
    return {"base_template": "reports/bare.html" if request.htmx else "base.html"}


def _cursor(request) -> str:
    return (request.GET.get("cursor") or "").strip()


def _bad_cursor(request):
    flash.error(request, _("Неверная ссылка на страницу — показана первая страница."))


@cabinet_view()
def campaigns(request, channel: str = "sms"):
    kind = _kind(channel)
    ctx = _report(request, kind, "campaigns")
    try:
        page = selectors.campaign_page(
            account_id=request.account.pk,
            filters=ctx["filters"],
            cursor=_cursor(request),
            kind=kind,
        )
    except selectors.BadCursor:
        _bad_cursor(request)
        page = selectors.campaign_page(
            account_id=request.account.pk, filters=ctx["filters"], kind=kind
        )
    ctx.update(page=page, export_url=reverse("reports:export", args=[kind.code]))
    return render(request, _template(request, "reports/campaigns.html"), ctx)


@cabinet_view()
def deferred(request, channel: str):
    kind = _kind(channel)
    ctx = _report(request, kind, "deferred", default_period="all")
    try:
        page = selectors.campaign_page(
            account_id=request.account.pk,
            filters=ctx["filters"],
            cursor=_cursor(request),
            kind=kind,
            deferred=True,
        )
    except selectors.BadCursor:
        _bad_cursor(request)
        page = selectors.campaign_page(
            account_id=request.account.pk,
            filters=ctx["filters"],
            kind=kind,
            deferred=True,
        )
    ctx.update(
        page=page,
        export_url=reverse("reports:export", args=[kind.code]) + "?deferred=1",
    )
    return render(request, _template(request, "reports/campaigns.html"), ctx)


@cabinet_view()
def messages(request, channel: str):
    kind = _kind(channel)
    ctx = _report(request, kind, "messages")
    try:
        page = selectors.messages_page(
            account_id=request.account.pk,
            filters=ctx["filters"],
            cursor=_cursor(request),
        )
    except selectors.BadCursor:
        _bad_cursor(request)
        page = selectors.messages_page(
            account_id=request.account.pk, filters=ctx["filters"]
        )
    _with_facts(kind, page.items)
    ctx.update(
        page=page, export_url=reverse("reports:messages_export", args=[kind.code])
    )
    return render(request, _template(request, "reports/messages.html"), ctx)


@cabinet_view()
def messages_export(request, channel: str):
    """The "Все сообщения" tab as .xlsx, with the tab's filters."""
    kind = _kind(channel)
    form = ReportFilterForm(request.GET or None, kind=kind, default_period="30")
    return exports.messages_response(
        account_id=request.account.pk, filters=form.filters(), kind=kind
    )


@cabinet_view()
def charts(request, channel: str):
    kind = _kind(channel)
    ctx = _report(request, kind, "charts")
    ctx["chart"] = selectors.chart_data(
        account_id=request.account.pk, filters=ctx["filters"], kind=kind
    )
    return render(request, "reports/charts.html", ctx)


@cabinet_view()
def sources(request, channel: str):
    kind = _kind(channel)
    ctx = _report(request, kind, "sources")
    ctx["rows"] = selectors.by_source(
        account_id=request.account.pk, filters=ctx["filters"], kind=kind
    )
    return render(request, "reports/sources.html", ctx)


@cabinet_view()
def unsubscribed(request, channel: str):
    kind = _kind(channel)
    ctx = _report(request, kind, "unsubscribed", default_period="all")
    try:
        page = selectors.unsubscribed_page(
            account_id=request.account.pk,
            channel=kind.code,
            filters=ctx["filters"],
            cursor=_cursor(request),
        )
    except selectors.BadCursor:
        _bad_cursor(request)
        page = selectors.unsubscribed_page(
            account_id=request.account.pk, channel=kind.code, filters=ctx["filters"]
        )
    ctx.update(page=page)
    return render(request, _template(request, "reports/unsubscribed.html"), ctx)


@cabinet_view()
def replies(request, channel: str):
    """Recipients' answers (manual 5.3 «Ответы»), per contact, newest first."""
    kind = _kind(channel)
    if kind.replies is None:
        raise Http404
    ctx = _report(request, kind, "replies", default_period="all")
    try:
        page = selectors.replies_page(
            account_id=request.account.pk,
            kind=kind,
            filters=ctx["filters"],
            cursor=_cursor(request),
        )
    except selectors.BadCursor:
        _bad_cursor(request)
        page = selectors.replies_page(
            account_id=request.account.pk, kind=kind, filters=ctx["filters"]
        )
    ctx.update(page=page)
    return render(request, _template(request, "reports/replies.html"), ctx)


@cabinet_view()
def export(request, channel: str):
    """The campaign list (or the deferred one) as .xlsx, with the page's filters."""
    kind = _kind(channel)
    is_deferred = request.GET.get("deferred") == "1"
    form = ReportFilterForm(
        request.GET or None, kind=kind, default_period="all" if is_deferred else "30"
    )
    return exports.campaigns_response(
        account_id=request.account.pk,
        filters=form.filters(),
        kind=kind,
        deferred=is_deferred,
    )


@require_POST
@cabinet_view(SEND)
def filter_save(request, channel: str):
    kind = _kind(channel)
    url = reverse(
        TAB_URLS.get(request.POST.get("tab"), TAB_URLS["campaigns"]), args=[kind.code]
    )
    form = SaveFilterForm(request.POST)
    query = query_string(request.POST)
    if not form.is_valid():
        flash.error(request, _("Введите название фильтра (не длиннее 100 символов)."))
    else:
        try:
            saved = services.saved_filter_save(
                account_id=request.account.pk,
                channel=kind.code,
                name=form.cleaned_data["name"],
                params=request.POST,
                user=request.user,
            )
        except services.ReportError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(
                request, _("Фильтр «%(name)s» сохранён.") % {"name": saved.name}
            )
    return redirect(f"{url}?{query}" if query else url)


@require_POST
@cabinet_view(SEND)
def filter_delete(request, channel: str, pk: int):
    kind = _kind(channel)
    try:
        services.saved_filter_delete(account_id=request.account.pk, filter_id=pk)
    except SavedFilter.DoesNotExist:
        raise Http404 from None
    flash.success(request, _("Фильтр удалён."))
    return redirect("reports:channel_campaigns", kind.code)


# --- one campaign (R3–R6) ---


def _campaign(request, pk: int) -> Campaign:
    try:
        return selectors.campaign_get(account_id=request.account.pk, campaign_id=pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


def repeat_url(campaign: Campaign) -> str:
    name = SEND_URLS.get(campaign.channel, f"{campaign.channel}:send")
    try:
        return f"{reverse(name)}?repeat={campaign.pk}"
    except NoReverseMatch:
        return ""


def _detail_context(request, campaign: Campaign) -> dict:
    kind = _kind(campaign.channel)
    detail = selectors.campaign_detail(account=request.account, campaign=campaign)
    can_cancel = selectors.campaign_cancellable(campaign) and can(request.user, SEND)
    return {
        "kind": kind,
        "columns": kind.columns,
        "campaign": campaign,
        "detail": detail,
        "row": detail.row,
        "row_cells": list(zip(detail.row.cells, kind.columns, strict=True)),
        "progress": selectors.campaign_progress(campaign, detail.row.counters),
        "can_cancel": can_cancel,
        "refund_estimate": selectors.cancel_refund_estimate(campaign)
        if can_cancel
        else None,
        "repeat_url": repeat_url(campaign) if can(request.user, SEND) else "",
        "can_export_recipients": can(request.user, CONTACTS),
        # The channel's own facts (voice: the average listening share).
        "channel_facts": kind.report_facts(campaign) if kind.report_facts else [],
        "content": kind.content.load(campaign.content),
    }


@cabinet_view()
def campaign_detail(request, pk: int):
    """R3; while the campaign runs, its live part polls this view (htmx) and
    gets only that part back, until the campaign is finished."""
    campaign = _campaign(request, pk)
    return render(
        request,
        _template(request, "reports/campaign_detail.html", "live"),
        _detail_context(request, campaign),
    )


@cabinet_view(SEND)
def campaign_cancel(request, pk: int):
    """«Отменить рассылку»: a confirmation (GET, for a page without JS) and
    the cancel itself (POST), which says how much came back."""
    campaign = _campaign(request, pk)
    url = reverse("reports:campaign", args=[campaign.pk])
    if request.method == "POST":
        try:
            result = services.campaign_cancel(
                account_id=request.account.pk,
                campaign_id=campaign.pk,
                user=request.user,
            )
        except Campaign.DoesNotExist:
            raise Http404 from None
        except services.ReportError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _cancelled_message(campaign, result))
        return redirect(url)
    if not selectors.campaign_cancellable(campaign):
        flash.error(request, _("Рассылка уже завершена: отменять нечего."))
        return redirect(url)
    return render(
        request,
        "reports/campaign_cancel.html",
        {
            "campaign": campaign,
            "refund_estimate": selectors.cancel_refund_estimate(campaign),
            **_fragment(request),
        },
    )


def _cancelled_message(campaign: Campaign, result) -> str:
    text = ngettext(
        "Рассылка #%(id)s отменена: %(n)s сообщение не будет отправлено.",
        "Рассылка #%(id)s отменена: %(n)s сообщений не будет отправлено.",
        result.cancelled,
    ) % {"id": campaign.pk, "n": result.cancelled}
    text += " " + _("На баланс возвращено %(sum)s.") % {"sum": money(result.refunded)}
    if result.refund_to_come:
        text += " " + _(
            "Ещё %(sum)s вернётся, как только остановится подготовка сообщений."
        ) % {"sum": money(result.refund_to_come)}
    return text


@cabinet_view()
def campaign_breakdown(request, pk: int):
    campaign = _campaign(request, pk)
    kind = _kind(campaign.channel)
    if kind.report_breakdown is not None:
        # By the channel's own measure (voice: by call duration).
        return render(
            request,
            "reports/breakdown.html",
            {
                "campaign": campaign,
                "channel_rows": kind.report_breakdown(campaign),
                **_fragment(request),
            },
        )
    rows = selectors.campaign_breakdown(
        account_id=request.account.pk,
        campaign=campaign,
        by_operator=kind.priced_by_operator,
    )
    return render(
        request,
        "reports/breakdown.html",
        {"campaign": campaign, "rows": rows, "kind": kind, **_fragment(request)},
    )


def _status_filter(request, kind) -> tuple[str, tuple]:
    code = request.GET.get("status") or ""
    for col in kind.columns:
        if col.code == code:
            return code, col.statuses
    return "", ()


@cabinet_view()
def campaign_messages(request, pk: int):
    campaign = _campaign(request, pk)
    kind = _kind(campaign.channel)
    status, statuses = _status_filter(request, kind)
    try:
        page = selectors.campaign_messages_page(
            account_id=request.account.pk,
            campaign_id=campaign.pk,
            statuses=statuses,
            cursor=_cursor(request),
        )
    except selectors.BadCursor:
        _bad_cursor(request)
        page = selectors.campaign_messages_page(
            account_id=request.account.pk, campaign_id=campaign.pk, statuses=statuses
        )
    _with_facts(kind, page.items)
    return render(
        request,
        _template(request, "reports/campaign_messages.html"),
        {
            "kind": kind,
            "columns": kind.columns,
            "campaign": campaign,
            "page": page,
            "status": status,
        },
    )


@cabinet_view()
def campaign_messages_export(request, pk: int):
    campaign = _campaign(request, pk)
    _code, statuses = _status_filter(request, _kind(campaign.channel))
    return exports.campaign_messages_response(
        account_id=request.account.pk, campaign=campaign, statuses=statuses
    )


@cabinet_view(CONTACTS)
def campaign_recipients(request, pk: int):
    """R6: the "Выгрузить абонентов" dialog (GET) and its submission (POST)."""
    campaign = _campaign(request, pk)
    groups = selectors.export_groups(account_id=request.account.pk)
    form = RecipientsExportForm(request.POST or None, groups=groups)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if d["target"] == "excel":
            return exports.recipients_response(
                account_id=request.account.pk, campaign=campaign, which=d["which"]
            )
        new = (d.get("group_mode") or "existing") == "new"
        try:
            group, count = services.recipients_to_group(
                account_id=request.account.pk,
                campaign_id=campaign.pk,
                which=d["which"],
                group_id=None if new else d["group"],
                new_group_name=d["new_group_name"] if new else "",
                remove_from_other_groups=d["remove_from_other_groups"],
            )
        except services.ReportError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            flash.success(
                request,
                ngettext(
                    "Абоненты выгружены в группу «%(name)s»: %(n)s номер.",
                    "Абоненты выгружены в группу «%(name)s»: %(n)s номеров.",
                    count,
                )
                % {"name": group.name, "n": count},
            )
            url = reverse("reports:campaign", args=[campaign.pk])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    # htmx swaps a 400 only when told to; the dialog shows the errors in place.
    status = 400 if form.errors and not request.htmx else 200
    return render(
        request,
        "reports/recipients.html",
        {"campaign": campaign, "form": form, **_fragment(request)},
        status=status,
    )
