"""One error shape for the whole API:
``{"error": {"code": "<machine code>", "message": "<human text>", "fields": {...}}}``."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler


class ApiError(exceptions.APIException):
    """A business error with a machine code (e.g. ``insufficient_funds``)."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str = "invalid", status_code: int | None = None,
                 fields: dict | None = None):
        super().__init__(detail=message, code=code)
        self.code = code
        self.fields = fields or {}
        if status_code:
            self.status_code = status_code


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return body


def _first_message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        return f"{key}: {_first_message(value)}" if key != "non_field_errors" else \
            _first_message(value)
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Не найдено.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied("Недостаточно прав.")
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        return Response(error_body(exc.code, str(exc.detail), exc.fields),
                        status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {}
        return Response(error_body("validation_error", _first_message(detail), fields),
                        status=response.status_code, headers=_headers(response))
    code = getattr(exc, "default_code", "error")
    message = exc.detail if isinstance(getattr(exc, "detail", None), str) else str(exc)
    return Response(error_body(str(code), str(message)), status=response.status_code,
                    headers=_headers(response))


def _headers(response) -> dict:
    return {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
