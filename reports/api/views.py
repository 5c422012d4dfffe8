"""Reports API.  ``/api/v1/campaigns/`` is one route for two apps: GET is the
report's list (:func:`campaign_list_response`), POST creates a campaign
(``messaging.api.campaigns.CampaignCreateView``, which ``CampaignsView``
extends).  Every report endpoint is mounted by ``reports/api/urls.py``."""

from urllib.parse import urlencode

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from cabinet.api.negotiation import FileFormatNegotiation
from cabinet.api.pagination import CURSOR_PARAMETERS, bad_cursor, page_limit
from messaging import registry
from messaging.api.campaigns import CampaignCreateView
from messaging.models import Campaign, MessageStatus

from .. import exports, selectors
from ..filters import ReportFilterForm
from .serializers import (
    CampaignReportPageSerializer,
    CampaignReportSerializer,
    MessagePageSerializer,
    MessageReportSerializer,
)

CAMPAIGN_LIST_PARAMETERS = [
    OpenApiParameter(
        "date_from",
        OpenApiTypes.DATE,
        description="С даты (включительно), ГГГГ-ММ-ДД. По умолчанию — "
        "последние 30 дней.",
    ),
    OpenApiParameter(
        "date_to", OpenApiTypes.DATE, description="По дату (включительно)."
    ),
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        enum=["30", "7", "today", "90", "all"],
        description="Вместо дат: готовый период; all — за всё время.",
    ),
    OpenApiParameter(
        "channel", OpenApiTypes.STR, description="Канал: sms, viber, voice…"
    ),
    OpenApiParameter(
        "source",
        OpenApiTypes.STR,
        description="Способ отправки: cabinet, api, scheduler…",
    ),
    OpenApiParameter("tag", OpenApiTypes.STR, description="Рассылки с этим тэгом."),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        description="Код столбца отчёта (delivered, undelivered, queued…): "
        "рассылки, где есть сообщения в этом статусе.",
    ),
    OpenApiParameter("sender", OpenApiTypes.STR, description="Имя отправителя."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Текст или описание содержит."),
    OpenApiParameter(
        "weekday",
        OpenApiTypes.INT,
        many=True,
        description="День недели создания: 1 — понедельник … 7 — воскресенье.",
    ),
    *CURSOR_PARAMETERS,
]

CAMPAIGN_LIST_EXAMPLE = OpenApiExample(
    "Страница рассылок",
    value={
        "results": [
            {
                "id": 42,
                "channel": "sms",
                "source": "api",
                "status": "done",
                "sender": "SMSinfo",
                "text": "Скидка 20% до воскресенья",
                "description": "",
                "tags": ["акция"],
                "created_at": "2026-11-20T12:00:00+03:00",
                "send_at": None,
                "recipients": 3,
                "cost": "8.31",
                "counters": {"delivered": 2, "undelivered": 1},
            }
        ],
        "next": "https://example.com/api/v1/campaigns/?cursor=MjAyNi0xMS0yMFQw"
        "OTowMDowMCswMDowMHw0Mg",
        "previous": None,
    },
    response_only=True,
)


def _filters(request, *, kind=None):
    form = ReportFilterForm(request.query_params or None, kind=kind)
    if form.is_bound and not form.is_valid():
        errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        first = next(iter(errors.values()))[0]
        raise ApiError(
            _("Неверный фильтр: %(error)s") % {"error": first},
            code="validation_error",
            fields=errors,
        )
    return form.filters()


def _page_url(request, cursor: str) -> str | None:
    if not cursor:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return (
        request.build_absolute_uri(request.path) + "?" + urlencode(params, doseq=True)
    )


def campaign_list_response(request) -> Response:
    """``GET /api/v1/campaigns/``: the account's campaigns, newest first, with
    the report filters, each with ``counters`` and ``cost``; cursor pagination.
    Three queries whatever the page size (campaigns, counters, nothing per row)."""
    filters = _filters(request)
    limit = page_limit(request)
    try:
        page = selectors.campaign_page(
            account_id=request.user.account_id,
            filters=filters,
            cursor=request.query_params.get("cursor", ""),
            size=limit,
            with_total=False,
        )
    except selectors.BadCursor:
        raise bad_cursor() from None
    campaigns = []
    for row in page.items:
        row.campaign.report_counters = row.counters
        campaigns.append(row.campaign)
    return Response(
        {
            "next": _page_url(request, page.next_cursor),
            "previous": _page_url(request, page.prev_cursor),
            "results": CampaignReportSerializer(campaigns, many=True).data,
        }
    )


# drf-spectacular arguments for the view that serves GET /api/v1/campaigns/.
CAMPAIGN_LIST_SCHEMA = {
    "summary": "Список рассылок с фильтрами отчёта",
    "parameters": CAMPAIGN_LIST_PARAMETERS,
    "responses": {200: CampaignReportPageSerializer},
    "examples": [CAMPAIGN_LIST_EXAMPLE],
}


class CampaignsView(CampaignCreateView):
    @extend_schema(**CAMPAIGN_LIST_SCHEMA, operation_id="campaigns_list")
    def get(self, request):
        """The report's campaign list (filters, counters, cost; cursor pages)."""
        return campaign_list_response(request)


def _campaign(request, pk: int) -> Campaign:
    try:
        return selectors.campaign_get(
            account_id=request.user.account_id, campaign_id=pk
        )
    except Campaign.DoesNotExist:
        raise Http404 from None


def _statuses(request, campaign: Campaign) -> tuple[str, ...]:
    code = request.query_params.get("status") or ""
    if not code:
        return ()
    kind = registry.get_channel(campaign.channel)
    for col in kind.columns:
        if col.code == code:
            return tuple(col.statuses)
    if code in MessageStatus.values:
        return (code,)
    raise ApiError(
        _("Неизвестный статус."),
        code="validation_error",
        fields={
            "status": [
                f"Допустимо: {', '.join(c.code for c in kind.columns)}"
                " или статус сообщения."
            ]
        },
    )


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["xlsx"],
    description="Тип файла: только xlsx (по умолчанию).",
)


def _xlsx_only(request) -> None:
    fmt = request.query_params.get("format")
    if fmt not in (None, "", "xlsx"):
        raise ApiError(
            _("Выгрузка бывает только в формате xlsx."),
            code="validation_error",
            fields={"format": [_("Допустимо: xlsx.")]},
        )


class CampaignExportView(APIView):
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        summary="Список рассылок в Excel (.xlsx)",
        parameters=[
            *[p for p in CAMPAIGN_LIST_PARAMETERS if p.name not in ("cursor", "limit")],
            FORMAT_PARAMETER,
        ],
        responses={(200, exports.XLSX): OpenApiTypes.BINARY},
    )
    def get(self, request):
        _xlsx_only(request)
        filters = _filters(request)
        return exports.campaigns_response(
            account_id=request.user.account_id, filters=filters
        )


class CampaignMessagesView(APIView):
    @extend_schema(
        summary="Сообщения рассылки (курсорная пагинация, новые первыми)",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                description="Код столбца отчёта (delivered, undelivered…) "
                "или статус сообщения.",
            ),
            *CURSOR_PARAMETERS,
        ],
        responses={200: MessagePageSerializer},
        examples=[
            OpenApiExample(
                "Страница сообщений",
                response_only=True,
                value={
                    "results": [
                        {
                            "id": 1001,
                            "campaign_id": 42,
                            "phone": "+79161234567",
                            "operator": "МТС",
                            "country": "RU",
                            "sender": "SMSinfo",
                            "text": "Скидка 20%",
                            "parts": 1,
                            "price": "2.77",
                            "status": "delivered",
                            "status_display": "Доставлено",
                            "reason": "",
                            "created_at": "2026-11-20T12:00:00+03:00",
                            "send_at": "2026-11-20T12:00:00+03:00",
                            "sent_at": "2026-11-20T12:00:01+03:00",
                            "status_at": "2026-11-20T12:00:05+03:00",
                        }
                    ],
                    "next": "https://example.com/api/v1/campaigns/42/messages/"
                    "?cursor=MTAwMQ",
                    "previous": None,
                },
            )
        ],
    )
    def get(self, request, pk: int):
        campaign = _campaign(request, pk)
        statuses = _statuses(request, campaign)
        try:
            page = selectors.campaign_messages_page(
                account_id=request.user.account_id,
                campaign_id=campaign.pk,
                statuses=statuses,
                cursor=request.query_params.get("cursor", ""),
                size=page_limit(request),
            )
        except selectors.BadCursor:
            raise bad_cursor() from None
        return Response(
            {
                "next": _page_url(request, page.next_cursor),
                "previous": _page_url(request, page.prev_cursor),
                "results": MessageReportSerializer(page.items, many=True).data,
            }
        )


class CampaignMessagesExportView(APIView):
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        summary="Сообщения рассылки в Excel (.xlsx)",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR), FORMAT_PARAMETER],
        responses={(200, exports.XLSX): OpenApiTypes.BINARY},
    )
    def get(self, request, pk: int):
        _xlsx_only(request)
        campaign = _campaign(request, pk)
        return exports.campaign_messages_response(
            account_id=request.user.account_id,
            campaign=campaign,
            statuses=_statuses(request, campaign),
        )
