"""The fast lane of ``POST /json/v1.0/sms/send/text``: a WSGI wrapper in front of
Django for the commonest call of the provider-compatible API — one message to
one number, sent now.

Integrators send confirmation codes one request per message, hundreds per
second.  Through Django that request runs a dozen middleware and
``campaign_launch``'s ~13 ORM statements: ~7 ms of CPU on a good day.  Here it
is parsed with the same code (``compat.parse_send``), the number normalised and
looked up with the same code, and written by ``messaging.instant.instant_send``
in one round trip (two pipelined statements, one transaction) that also
re-checks the token, the account, the sender, the stop-list, the tariff and
the balance from fresh rows.

Anything else — another shape of request, a validation error, an unknown or
restricted token, a blocked number, too little money, a text for moderation, a
replay raced by a concurrent request — is handed, untouched, to Django,
whose answer is the reference.  The lane never answers differently from Django:
``tests/integrations/test_fastlane.py`` sends the same requests both ways and
compares bodies, headers and rows.  It is on for PostgreSQL only
(``COMPAT_FAST_LANE``).
"""

import io
import json
import logging
import threading
from decimal import Decimal

from django.conf import settings
from django.core import signals
from django.db import DatabaseError, IntegrityError
from django.utils import timezone

from cabinet.api.errors import SERVER_ERROR
from cabinet.api.throttling import token_hit
from cabinet.models import ApiToken, hash_token
from cabinet.net import client_ip, ip_allowed
from contacts.phones import InvalidPhone, lookup, normalize_phone
from messaging import instant, registry
from messaging.instant import instant_after_commit, instant_send
from messaging.moderation import risky_reason
from messaging.services import COUPON_COMMAND

from .compat import Code, CompatError, _from_message, parse_send, replay_key

log = logging.getLogger("integrations.fastlane")

PATHS = frozenset({"/json/v1.0/sms/send/text", "/json/v1.0/sms/send/text/"})

# Django's security middleware adds these to every response; the lane's answers
# carry the same (the test compares the header sets).
_HEADERS = [
    ("Content-Type", "application/json"),
    ("X-Frame-Options", "DENY"),
    ("Vary", "Accept-Language, Cookie"),
    ("Content-Language", "ru"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]


class _Tokens:
    """key hash → (token id, account id, scopes, allowed IPs).  Scopes and
    allowed IPs never change after a token is created, so they are remembered
    per process; revocation and blocking are checked by the send statement on
    every request."""

    LIMIT = 10_000

    def __init__(self):
        self._known: dict[str, tuple[int, int, list[str], list[str]]] = {}
        self._lock = threading.Lock()

    def get(self, key: str):
        digest = hash_token(key)
        found = self._known.get(digest)
        if found is not None:
            return found
        token = (
            ApiToken.objects.filter(key_hash=digest, revoked_at__isnull=True)
            .only("id", "account_id", "scopes", "allowed_ips")
            .first()
        )
        if token is None:
            return None
        found = (
            token.pk,
            token.account_id,
            list(token.scopes or []),
            token.allowed_ip_list(),
        )
        with self._lock:
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            self._known[digest] = found
        return found


TOKENS = _Tokens()


class FastLane:
    """WSGI middleware: serves the one-message send it can, passes the rest (and
    every other path) to ``app``."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if (
            environ.get("PATH_INFO") not in PATHS
            or environ.get("REQUEST_METHOD") != "POST"
            or not settings.COMPAT_FAST_LANE
        ):
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            length = -1
        if not 0 < length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # Django reads it again if needed
        # Django's request signals: database connections are recycled (and
        # caches closed) exactly as for a request Django serves.
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            answer = serve(environ, body)
        finally:
            signals.request_finished.send(sender=self.__class__)
        if answer is None:
            return self.app(environ, start_response)
        status, payload = answer
        data = json.dumps(payload, ensure_ascii=False).encode()
        start_response(status, [*_HEADERS, ("Content-Length", str(len(data)))])
        return [data]


class _Meta:
    """Enough of a request for ``cabinet.net.client_ip``."""

    def __init__(self, environ):
        self.META = environ


def serve(environ, body: bytes):
    """``(status, payload)`` for a request the lane sends, or ``None`` for Django.
    Nothing is written before the one round trip; after it commits, only the
    answer and the follow-ups (notification, dispatch) remain."""
    try:
        plan = _plan(environ, body)
    except Exception:  # the reference path will answer (and log) it
        log.exception("fast lane: planning failed, handing to Django")
        return None
    if plan is None:
        return None
    try:
        sent = instant_send(**plan.send)
    except IntegrityError:
        # A concurrent replay (same id, number and text) won: nothing was
        # written here.
        return None
    except DatabaseError:
        # Whether the statement committed is unknown (a lost connection, say):
        # handing the request to Django could send it twice.  The client gets
        # Django's answer for a server error and may repeat with the same id.
        log.exception("fast lane: the send statement failed")
        return "500 Internal Server Error", {
            "success": False,
            "error": {"code": Code.SERVER_ERROR, "descr": SERVER_ERROR},
        }
    if sent is None:
        return None
    try:
        instant_after_commit(sent)
    except Exception:  # never lose the answer of a committed send
        log.exception("fast lane: follow-up after send failed")
    return "200 OK", _answer(plan.item, sent)


class _Plan:
    __slots__ = ("item", "send")


def _plan(environ, body: bytes) -> "_Plan | None":
    if not instant.available():
        return None
    key = environ.get("HTTP_X_TOKEN", "").strip()
    if not key:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    now = timezone.now()
    try:
        req = parse_send(data, now=now)
    except CompatError:
        return None
    if (
        len(req.items) != 1
        or req.validate
        or req.send_at is not None
        or req.options
        or req.opsos_allowed
        or req.opsos_disallowed
        or req.scheme_id is not None
    ):
        return None
    item = req.items[0]
    if item.error or item.group_id is not None or item.shorten:
        return None
    if COUPON_COMMAND.search(item.text) or risky_reason(item.text):
        return None
    try:
        item.phone = normalize_phone(item.recipient)
    except InvalidPhone:
        return None
    token = TOKENS.get(key)
    if token is None:
        return None
    token_id, account_id, scopes, allowed_ips = token
    if "messaging" not in scopes or not ip_allowed(
        client_ip(_Meta(environ)), allowed_ips
    ):
        return None
    if token_hit(token_id) is not None:
        return None  # Django answers 429 with Retry-After
    info = lookup(item.phone)
    item.country, item.operator = info.country, info.operator
    item.region, item.tz = info.region, info.timezone
    kind = registry.get_channel("sms")
    sender = item.sender or kind.default_sender()
    plan = _Plan()
    plan.item = item
    plan.send = {
        "kind": kind,
        "token_id": token_id,
        "account_id": account_id,
        "phone": item.phone,
        "country": item.country,
        "operator": item.operator,
        "region": item.region,
        "tz": item.tz,
        "text": item.text,
        "parts": kind.count_units(item.text, {}),
        "sender": sender,
        "client_ref": item.client_id or "",
        # The same rule as Django's path: only a client's own id is replayable.
        "client_key": replay_key(item.client_id, item.phone, item.text)
        if item.given_id
        else "",
        "ttl": item.ttl,
        "tags": req.tags,
        "now": now,
    }
    return plan


def _answer(item, sent) -> dict:
    row = {
        "id": sent.message_id,
        "phone": sent.phone,
        "status": sent.status,
        "price": sent.price,
        "parts": sent.parts,
        "campaign_id": sent.campaign_id,
        "campaign__status": sent.campaign_status,
    }
    message = _from_message(item, row, repeated=sent.repeated)
    total = (
        Decimal("0") if sent.repeated else Decimal(str(message["price"]))
    ).quantize(Decimal("0.01"))
    return {
        "success": True,
        "result": {
            "messages": [message],
            "price": {"sum": float(total), "currency": "RUB"},
            "validate": False,
            "accepted": 1,
            "rejected": 0,
            "startDateTime": None,
        },
    }
