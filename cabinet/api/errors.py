"""One error shape for the whole API:
``{"error": {"code": "<machine code>", "message": "<human text>", "fields": {...}}}``.

Every DRF error (validation, 401, 403, 404, 405, 406, 415, 429…) and every
unhandled exception in an API view goes through :func:`exception_handler`;
``cabinet.api.middleware.ApiErrorMiddleware`` gives the same shape to what
happens outside DRF views under ``/api/`` (unknown URLs, server errors)."""

import logging

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
)
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

log = logging.getLogger("cabinet.api")

# Russian messages for DRF's built-in errors (DRF's own are English or
# generic); keyed by DRF's ``default_code``.
MESSAGES = {
    "not_authenticated": "Требуется авторизация: передайте заголовок "
    "Authorization: Token <ключ>.",
    "authentication_failed": "Неверный токен.",
    "permission_denied": "Недостаточно прав.",
    "not_found": "Не найдено.",
    "method_not_allowed": "Метод {method} не поддерживается для этого адреса.",
    "not_acceptable": "Запрошенный формат ответа не поддерживается; используйте "
    "application/json.",
    "unsupported_media_type": "Тип содержимого {media_type} не поддерживается; "
    "отправляйте application/json.",
    "throttled": "Слишком много запросов. Повторите через {wait} с.",
    "parse_error": "Тело запроса не является корректным JSON.",
}
SERVER_ERROR = "Внутренняя ошибка сервера. Мы уже разбираемся; повторите запрос позже."


class ApiError(exceptions.APIException):
    """A business error with a machine code (e.g. ``insufficient_funds``)."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status_code: int | None = None,
        fields: dict | None = None,
    ):
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
        return (
            f"{key}: {_first_message(value)}"
            if key != "non_field_errors"
            else _first_message(value)
        )
    return str(detail)


def _message_for(exc, context) -> str:
    code = getattr(exc, "default_code", "error")
    detail = getattr(exc, "detail", None)
    template = MESSAGES.get(code)
    request = context.get("request") if context else None
    if code == "authentication_failed" and isinstance(detail, str) and detail:
        return str(detail)  # our authentication says precisely what is wrong
    if code == "not_found" and isinstance(detail, str):
        if detail and detail != "Not found." and not detail.startswith("No "):
            return detail
    if (
        code == "permission_denied"
        and isinstance(detail, str)
        and detail
        and detail != exceptions.PermissionDenied.default_detail
    ):
        return str(detail)
    if template:
        return template.format(
            method=getattr(request, "method", ""),
            media_type=getattr(request, "content_type", "") or "—",
            wait=int(getattr(exc, "wait", None) or 1),
        )
    return str(detail) if isinstance(detail, str) else str(exc)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        return Response(
            error_body("request_too_large", "Слишком большое тело запроса."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Не найдено.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied("Недостаточно прав.")
    response = drf_handler(exc, context)
    if response is None:
        # Unhandled: log the traceback for us, show the client no internals.
        view = context.get("view") if context else None
        log.exception(
            "unhandled error in API view %s", type(view).__name__, exc_info=exc
        )
        return Response(
            error_body("server_error", SERVER_ERROR),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, ApiError):
        return Response(
            error_body(exc.code, str(exc.detail), exc.fields),
            status=exc.status_code,
            headers=_headers(response),
        )
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {}
        return Response(
            error_body("validation_error", _first_message(detail), fields),
            status=response.status_code,
            headers=_headers(response),
        )
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1) if exc.wait is not None else 1
        headers = {**_headers(response), "Retry-After": str(max(wait, 1))}
        return Response(
            error_body("throttled", _message_for(exc, context)),
            status=429,
            headers=headers,
        )
    return Response(
        error_body(str(code), _message_for(exc, context)),
        status=response.status_code,
        headers=_headers(response),
    )


def _headers(response) -> dict:
    return {
        k: v
        for k, v in response.items()
        if k in ("WWW-Authenticate", "Retry-After", "Allow")
    }
