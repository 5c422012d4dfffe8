"""HTTP face of the provider-compatible APIs: ``/json/v1.0/…`` (X-Token), the
XML API ``/API/XML/…`` and the legacy ``/lcabApi/…`` calls (X-Token or the
protocol login and password).  Plain Django views: the hot path (one message
per request) skips DRF's negotiation machinery.

Every answer is HTTP 200, errors included (``success: false`` or ``code`` ≠ 1
in the body), as the provider's protocols do: clients built on PHP's
``file_get_contents``, Guzzle or ``raise_for_status`` never read a 4xx body.
Only a server fault is a 500."""

import json
import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from cabinet.api.authentication import authenticate_key
from cabinet.api.errors import SERVER_ERROR
from cabinet.api.throttling import token_hit

from . import compat, legacy, services
from .compat import Code, CompatError
from .legacy import LegacyError

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


# --- the legacy calls and the XML API -----------------------------------------------
def _legacy_account(request, login, password):
    """X-Token when the request carries one, else the protocol login and
    password (cabinet → API → «XML и JSON протокол»); then the rate limit."""
    key = request.headers.get("X-Token", "").strip()
    try:
        if key:
            return _token_account(request, key)
    except CompatError as exc:
        raise LegacyError.of(exc) from None
    try:
        creds = services.protocol_authenticate(
            request=request, login=login, password=password
        )
    except services.ProtocolAuthError as exc:
        raise LegacyError(exc.code, exc.descr) from None
    limited = _rate_limited(f"protocol-{creds.pk}")
    if limited:
        raise LegacyError.of(limited)
    return creds.account


def _raw_body(request) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise LegacyError(Code.TOO_LARGE, "Слишком большое тело запроса.") from None


def _lcab_params(request) -> dict:
    raw = _raw_body(request)
    body = None
    if raw.lstrip().startswith(b"{"):
        # A JSON object, whatever the Content-Type says (some clients post
        # JSON as a form).
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise LegacyError(
                Code.BAD_REQUEST, "Тело запроса не является корректным JSON."
            ) from None
        form = {}
    else:
        form = request.POST if request.method == "POST" else {}
    return legacy.form_params(request.GET, form, body)


def _lcab_view(handler):
    """``/lcabApi/<name>.php``: GET or POST; JSON ``{"code": 1, …}``."""

    @csrf_exempt
    def view(request):
        if request.method not in ("GET", "POST"):
            response = _json(legacy.error(Code.METHOD_NOT_ALLOWED, "Используйте POST."))
            response["Allow"] = "GET, POST"
            return response
        try:
            params = _lcab_params(request)
            account = _legacy_account(
                request, params.get("login", ""), params.get("password", "")
            )
            return _json(handler(account, params))
        except LegacyError as exc:
            return _json(legacy.error(exc.code, exc.descr), _retry(exc))

    view.__name__ = handler.__name__
    return view


def _info(account, params):
    return legacy.account_info(account=account)


def _send_sms(account, params):
    req, smsid = legacy.lcab_send_request(params)
    return legacy.send(account=account, req=req, smsid=smsid)


def _get_groups(account, params):
    return legacy.groups(
        account=account,
        group_id=str(params.get("id") or "").strip(),
        name=str(params.get("name") or "").strip(),
    )


lcab_info = _lcab_view(_info)
lcab_send = _lcab_view(_send_sms)
lcab_groups = _lcab_view(_get_groups)


def _xml_send(account, fields, recipients):
    req, smsid, action = legacy.xml_send_request(fields, recipients)
    return legacy.send(account=account, req=req, smsid=smsid, action=action)


def _xml_balance(account, fields, recipients):
    return legacy.balance(account=account)


def _xml_report(account, fields, recipients):
    smsid = fields.get("smsid") or fields.get("sms_id") or ""
    if smsid:
        return legacy.report_detail(
            account=account,
            smsid=smsid,
            with_datetime=fields.get("return-delivery-datetime", "") == "1",
        )
    return legacy.report_list(
        account=account,
        start=fields.get("start", ""),
        stop=fields.get("stop", ""),
        source=fields.get("source", ""),
        number=fields.get("number", ""),
    )


XML_METHODS = {"send": _xml_send, "balance": _xml_balance, "report": _xml_report}


def _xml_answer(request, data: dict, headers: dict | None = None) -> HttpResponse:
    if request.GET.get("returnType", "").lower() == "json":
        return _json(legacy.to_json(data), headers)
    response = HttpResponse(
        legacy.to_xml(data), content_type="application/xml; charset=utf-8"
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


@csrf_exempt
def xml_api(request, method: str):
    """``/API/XML/<method>.php``: an XML ``<data>`` body with ``login`` and
    ``password`` (or an X-Token header)."""
    try:
        handler = XML_METHODS.get(method)
        if handler is None:
            raise LegacyError(
                Code.NOT_FOUND,
                f"Метод XML API «{method[:40]}» не поддерживается "
                "(есть send, balance, report).",
            )
        if request.method != "POST":
            response = _xml_answer(
                request, legacy.error(Code.METHOD_NOT_ALLOWED, "Используйте POST.")
            )
            response["Allow"] = "POST"
            return response
        fields, recipients = legacy.xml_params(_raw_body(request))
        account = _legacy_account(
            request, fields.get("login", ""), fields.get("password", "")
        )
        return _xml_answer(request, handler(account, fields, recipients))
    except LegacyError as exc:
        return _xml_answer(request, legacy.error(exc.code, exc.descr), _retry(exc))
    except Exception:
        # The JSON paths get this from cabinet.api.middleware; XML clients
        # read XML, never an HTML error page.
        log.exception("XML API %s failed", method)
        response = _xml_answer(request, legacy.error(Code.SERVER_ERROR, SERVER_ERROR))
        response.status_code = 500
        return response
