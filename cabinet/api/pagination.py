"""Cursor pagination, the one page shape of every list endpoint of /api/v1/:
``{"next", "previous", "results"}``.

A cursor is stable under inserts (no skipped or repeated rows while a client
pages through a growing list) and costs one indexed query per page, however
deep.  Ordering is ``-id`` unless a view sets ``ordering``.  A page size outside
1–500 or a cursor we did not make is a 400 in the one error shape (``limit`` /
``bad_cursor``), in the DRF lists and in the reports' keyset lists alike."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .errors import ApiError

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


def page_limit(request) -> int:
    """``?limit=`` as an int in 1–500 (50 when absent); ApiError otherwise."""
    raw = request.query_params.get("limit") or str(DEFAULT_LIMIT)
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(
            _("limit — целое число от 1 до %(max)s.") % {"max": MAX_LIMIT},
            code="validation_error",
            fields={"limit": [_("Недопустимое значение.")]},
        )
    return limit


def bad_cursor() -> ApiError:
    return ApiError(
        _("Неверный курсор страницы."),
        code="bad_cursor",
        fields={"cursor": [_("Неверное значение.")]},
    )


class ApiCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = DEFAULT_LIMIT
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT
    cursor_query_description = "Курсор страницы из полей `next`/`previous` ответа."
    page_size_query_description = "Записей на странице (1–500, по умолчанию 50)."

    def get_page_size(self, request):
        return page_limit(request)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise bad_cursor() from None


# The same query parameters, for views that page by hand (APIView + paginator).
CURSOR_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        description=ApiCursorPagination.cursor_query_description,
    ),
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description=ApiCursorPagination.page_size_query_description,
    ),
]
