"""Cursor pagination, the default for every list endpoint of /api/v1/.

A cursor is stable under inserts (no skipped or repeated rows while a client
pages through a growing list) and costs one indexed query per page, however
deep.  Ordering is ``-id`` unless a view sets ``ordering``."""

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500
    cursor_query_description = "Курсор страницы из полей `next`/`previous` ответа."
    page_size_query_description = "Записей на странице (1–500, по умолчанию 50)."
