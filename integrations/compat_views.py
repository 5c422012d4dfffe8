"""HTTP face of the provider-compatible API: ``/json/v1.0/…`` (X-Token) and the
legacy ``/lcabApi/info.php`` (protocol login/password).  Plain Django views:
the hot path (one message per request) skips DRF's negotiation machinery."""

import json
import logging

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from cabinet.api.authentication import authenticate_key
from cabinet.api.throttling import token_hit

from . import compat, services
from .compat import Code, CompatError

log = logging.getLogger("integrations.compat")


def _json(body: dict, status: int = 200, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(
        body, status=status, safe=False, json_dumps_params={"ensure_ascii": False}
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _fail(exc: CompatError, headers: dict | None = None) -> JsonResponse:
    return _json(exc.body(), exc.status, headers)


def _authenticate(request):
    key = request.headers.get("X-Token", "").strip()
    if not key:
        raise CompatError(
            Code.UNAUTHORIZED,
            "Передайте токен в заголовке X-Token "
            "(раздел «API» → «Рассылка сообщений»).",
            status=401,
        )
    try:
        user, token = authenticate_key(request, key)
    except AuthenticationFailed as exc:
        raise CompatError(Code.UNAUTHORIZED, str(exc.detail), status=401) from None
    if "messaging" not in (token.scopes or []):
        raise CompatError(
            Code.FORBIDDEN,
            "Токен не относится к области «Рассылка сообщений».",
            status=403,
        )
    wait = token_hit(token.pk)
    if wait is not None:
        exc = CompatError(
            Code.RATE_LIMITED,
            f"Слишком много запросов. Повторите через {int(wait) or 1} с.",
            status=429,
        )
        exc.retry_after = max(int(wait), 1)
        raise exc
    return user


def _body(request):
    try:
        raw = request.body
    except RequestDataTooBig:
        raise CompatError(
            Code.TOO_LARGE, "Слишком большое тело запроса.", status=413
        ) from None
    if not raw.strip():
        raise CompatError(Code.BAD_REQUEST, "Пустое тело запроса: ожидается JSON.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CompatError(
            Code.BAD_REQUEST, "Тело запроса не является корректным JSON (UTF-8)."
        ) from None


def _compat_view(handler):
    @csrf_exempt
    def view(request):
        if request.method != "POST":
            return _fail(
                CompatError(
                    Code.METHOD_NOT_ALLOWED, "Используйте метод POST.", status=405
                ),
                {"Allow": "POST"},
            )
        try:
            user = _authenticate(request)
            data = _body(request)
            return _json(handler(user.account, data))
        except CompatError as exc:
            retry = getattr(exc, "retry_after", None)
            return _fail(exc, {"Retry-After": str(retry)} if retry else None)

    view.__name__ = handler.__name__
    return view


def _send(account, data):
    return compat.compat_send(account=account, data=data)


def _status(account, data):
    return compat.compat_status(account=account, data=data)


def _callpassword(account, data):
    # The voice channel (and so CallPassword) is another issue; until it exists
    # the call is refused clearly and nothing is charged.
    raise CompatError(
        Code.NOT_AVAILABLE,
        "CallPassword пока недоступен: голосовой канал "
        "ещё не подключён. Деньги не списаны.",
        status=501,
    )


sms_send_text = _compat_view(_send)
sms_status = _compat_view(_status)
callpassword_send = _compat_view(_callpassword)


@csrf_exempt
def lcab_info(request):
    """``/lcabApi/info.php``: the balance by protocol login and password.
    ``{"code": 1, "account": <balance>}``; otherwise ``code`` ≠ 1 and ``descr``."""
    if request.method not in ("POST", "GET"):
        response = _json({"code": 0, "descr": "Используйте метод POST."}, 405)
        response["Allow"] = "GET, POST"
        return response
    try:
        params = request.POST if request.method == "POST" else request.GET
        login, password = params.get("login", ""), params.get("password", "")
        if not login and request.content_type == "application/json":
            data = json.loads(request.body or b"{}")
            if isinstance(data, dict):
                login, password = (
                    str(data.get("login", "")),
                    str(data.get("password", "")),
                )
    except RequestDataTooBig:
        return _json({"code": 0, "descr": "Слишком большое тело запроса."}, 413)
    except ValueError:
        return _json(
            {"code": 2, "descr": "Тело запроса не является корректным JSON."}, 400
        )
    result = services.protocol_balance(request=request, login=login, password=password)
    return _json(result, 200 if result["code"] == 1 else result.pop("_status", 403))
