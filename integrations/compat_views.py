"""HTTP face of the provider-compatible API: ``/json/v1.0/…`` (X-Token) and the
legacy ``/lcabApi/info.php`` (protocol login/password).  Plain Django views:
the hot path (one message per request) skips DRF's negotiation machinery.

Every answer is HTTP 200, errors included (``success: false`` or ``code`` ≠ 1
in the body), as the provider's protocols do: clients built on PHP's
``file_get_contents``, Guzzle or ``raise_for_status`` never read a 4xx body.
Only a server fault is a 500."""

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


def _json(body: dict, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(
        body, status=200, safe=False, json_dumps_params={"ensure_ascii": False}
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _retry(exc) -> dict | None:
    retry = getattr(exc, "retry_after", None)
    return {"Retry-After": str(retry)} if retry else None


def _rate_limited(subject) -> CompatError | None:
    wait = token_hit(subject)
    if wait is None:
        return None
    return CompatError(
        Code.RATE_LIMITED,
        f"Слишком много запросов. Повторите через {int(wait) or 1} с.",
        retry_after=max(int(wait), 1),
    )


def _token_account(request, key: str):
    """The account behind an X-Token of the "messaging" scope (revoked, blocked,
    wrong IP, other scope and the rate limit are ``CompatError``s)."""
    try:
        user, token = authenticate_key(request, key)
    except AuthenticationFailed as exc:
        raise CompatError(Code.UNAUTHORIZED, str(exc.detail)) from None
    if "messaging" not in (token.scopes or []):
        raise CompatError(
            Code.FORBIDDEN, "Токен не относится к области «Рассылка сообщений»."
        )
    limited = _rate_limited(token.pk)
    if limited:
        raise limited
    return user.account


def _authenticate(request):
    key = request.headers.get("X-Token", "").strip()
    if not key:
        raise CompatError(
            Code.UNAUTHORIZED,
            "Передайте токен в заголовке X-Token "
            "(раздел «API» → «Рассылка сообщений»).",
        )
    return _token_account(request, key)


def _body(request):
    try:
        raw = request.body
    except RequestDataTooBig:
        raise CompatError(Code.TOO_LARGE, "Слишком большое тело запроса.") from None
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
            response = _json(
                CompatError(Code.METHOD_NOT_ALLOWED, "Используйте метод POST.").body()
            )
            response["Allow"] = "POST"
            return response
        try:
            account = _authenticate(request)
            data = _body(request)
            return _json(handler(account, data))
        except CompatError as exc:
            return _json(exc.body(), _retry(exc))

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
    )


sms_send_text = _compat_view(_send)
sms_status = _compat_view(_status)
callpassword_send = _compat_view(_callpassword)


@csrf_exempt
def lcab_info(request):
    """``/lcabApi/info.php``: the balance by protocol login and password.
    ``{"code": 1, "account": <balance>}``; otherwise ``code`` ≠ 1 and ``descr``."""
    if request.method not in ("POST", "GET"):
        response = _json({"code": 0, "descr": "Используйте метод POST."})
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
        return _json({"code": 0, "descr": "Слишком большое тело запроса."})
    except ValueError:
        return _json({"code": 2, "descr": "Тело запроса не является корректным JSON."})
    result = services.protocol_balance(request=request, login=login, password=password)
    result.pop("_status", None)
    return _json(result)
