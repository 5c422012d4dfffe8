"""JSON errors for everything under the API prefixes that DRF does not see:
an unknown URL (the resolver's 404), a 405/400 from a plain view, and any
unhandled exception (500) — never Django's HTML page or a traceback.

``/api/`` answers in the REST shape ``{"error": {"code", "message"}}``; the
provider-compatible paths (``/json/``, ``/lcabApi/``) in theirs
(``{"success": false, "error": {"code", "descr"}}``)."""

import logging

from django.core.exceptions import BadRequest
from django.http import JsonResponse

from .errors import SERVER_ERROR, error_body

log = logging.getLogger("cabinet.api")

REST_PREFIX = "/api/"
COMPAT_PREFIXES = ("/json/", "/lcabApi/")

_REST_MESSAGES = {
    400: ("bad_request", "Неверный запрос."),
    403: ("permission_denied", "Недостаточно прав."),
    404: ("not_found", "Адрес API не найден."),
    405: ("method_not_allowed", "Метод не поддерживается для этого адреса."),
    413: ("request_too_large", "Слишком большое тело запроса."),
    500: ("server_error", SERVER_ERROR),
}


def compat_error(code: int, descr: str, *, status: int = 200) -> JsonResponse:
    return JsonResponse(
        {"success": False, "error": {"code": code, "descr": descr}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _kind(path: str) -> str | None:
    if path.startswith(REST_PREFIX):
        return "rest"
    if path.startswith(COMPAT_PREFIXES):
        return "compat"
    return None


def _json_for(kind: str, status: int) -> JsonResponse:
    code, message = _REST_MESSAGES.get(status, ("error", "Ошибка запроса."))
    if kind == "compat":
        return compat_error(status, message, status=status)
    return JsonResponse(
        error_body(code, message),
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        kind = _kind(request.path)
        if kind is None or response.status_code < 400:
            return response
        content_type = response.get("Content-Type", "")
        if content_type.startswith("application/json"):
            return response
        if response.status_code in _REST_MESSAGES:
            replaced = _json_for(kind, response.status_code)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response

    def process_exception(self, request, exception):
        kind = _kind(request.path)
        if kind is None:
            return None
        from django.core.exceptions import PermissionDenied, RequestDataTooBig
        from django.http import Http404

        if isinstance(exception, Http404):
            return _json_for(kind, 404)
        if isinstance(exception, PermissionDenied):
            return _json_for(kind, 403)
        if isinstance(exception, RequestDataTooBig):
            return _json_for(kind, 413)
        log.exception("unhandled error at %s", request.path, exc_info=exception)
        return _json_for(kind, 500)


NUL_IN_QUERY = "Параметры запроса содержат недопустимый символ U+0000."


def _has_nul(data) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in data.lists()
    )


class RefuseNulInQueryMiddleware:
    """A query string or a posted form carrying U+0000 is refused whole,
    before any view: PostgreSQL cannot store or compare text with it, so a
    search, a filter or a plain ``request.POST`` read would fail as a server
    error.  JSON bodies are checked by their fields (DRF, the JSON API's parser).
    Forms are looked at only for views that CSRF's check parses anyway: views
    exempt from it (payment callbacks) read their raw body themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "%00" in request.META.get("QUERY_STRING", "") and _has_nul(request.GET):
            return self._refuse(request)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method == "POST"
            and _kind(request.path) is None
            and not getattr(view_func, "csrf_exempt", False)
            and request.content_type
            in ("application/x-www-form-urlencoded", "multipart/form-data")
            and _has_nul(request.POST)
        ):
            return self._refuse(request)
        return None

    @staticmethod
    def _refuse(request):
        kind = _kind(request.path)
        if kind == "compat":
            # The provider's protocols answer errors in an HTTP 200 body; the
            # legacy calls in their own {"code", "descr"} shape.
            if request.path.startswith("/lcabApi/"):
                return JsonResponse(
                    {"code": 400, "descr": NUL_IN_QUERY},
                    json_dumps_params={"ensure_ascii": False},
                )
            return compat_error(400, NUL_IN_QUERY)
        if kind == "rest":
            return JsonResponse(
                error_body("bad_request", NUL_IN_QUERY),
                status=400,
                json_dumps_params={"ensure_ascii": False},
            )
        raise BadRequest(NUL_IN_QUERY)
