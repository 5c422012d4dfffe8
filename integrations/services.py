"""Writes of the integrations app: API tokens (through cabinet.services),
protocol credentials, webhook settings, the webhook outbox and its delivery."""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from cabinet import ratelimit
from cabinet.models import Account, ApiToken, TokenScope
from cabinet.net import client_ip, ip_allowed
from cabinet.services import token_create, token_revoke
from cabinet.urlcheck import UnsafeUrl, callable_now, public_url_check
from messaging.models import Campaign, Message

from .models import ProtocolCredentials, WebhookDelivery, WebhookEndpoint, WebhookEvent

log = logging.getLogger(__name__)


class IntegrationError(Exception):
    """A user error (shown as is); nothing was changed."""


# --- API tokens -------------------------------------------------------------------


def parse_ip_list(raw: str) -> list[str]:
    """Addresses or CIDR networks, one per line or comma-separated.  Raises
    ``IntegrationError`` naming the first bad entry."""
    entries = [
        e.strip() for e in (raw or "").replace(",", "\n").splitlines() if e.strip()
    ]
    if len(entries) > 50:
        raise IntegrationError(_("Не более 50 IP-адресов или подсетей."))
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise IntegrationError(
                _(
                    "«%(entry)s» — не IP-адрес и не подсеть (пример: 203.0.113.5 или "
                    "203.0.113.0/24)."
                )
                % {"entry": entry[:60]}
            ) from None
    return entries


def api_token_issue(
    *,
    account: Account,
    scope: str,
    description: str = "",
    allowed_ips: str = "",
    created_by=None,
):
    """A new token of one scope; returns ``cabinet.services.TokenCreated`` (the
    key is in ``.key`` and is never stored)."""
    if scope not in TokenScope.values:
        raise IntegrationError(_("Неизвестная область токена."))
    ips = parse_ip_list(allowed_ips)
    active = ApiToken.objects.filter(account=account, revoked_at__isnull=True).count()
    if active >= 50:
        raise IntegrationError(_("Не более 50 действующих токенов: отзовите ненужные."))
    return token_create(
        account=account,
        scopes=[scope],
        description=description.strip()[:200],
        allowed_ips="\n".join(ips),
        created_by=created_by,
    )


def api_token_revoke(*, account: Account, token_id: int) -> ApiToken:
    """Revoke the account's token (a foreign id is ``ApiToken.DoesNotExist``)."""
    token = ApiToken.objects.get(account=account, pk=token_id)
    token_revoke(token=token)
    token.refresh_from_db()
    return token


# --- protocol credentials ---------------------------------------------------------


def protocol_credentials_save(
    *,
    account: Account,
    login: str,
    password: str = "",
    ip_restricted: bool = False,
    allowed_ips: str = "",
) -> ProtocolCredentials:
    login = login.strip()
    ips = parse_ip_list(allowed_ips)
    if ip_restricted and not ips:
        raise IntegrationError(
            _("Укажите хотя бы один IP-адрес или снимите ограничение.")
        )
    if (
        ProtocolCredentials.objects.filter(login__iexact=login)
        .exclude(account=account)
        .exists()
    ):
        raise IntegrationError(_("Этот логин уже занят, выберите другой."))
    creds = ProtocolCredentials.objects.filter(account=account).first()
    if creds is None and not password:
        raise IntegrationError(_("Задайте пароль."))
    if creds is None:
        creds = ProtocolCredentials(account=account)
    creds.login = login
    if password:
        creds.password_hash = make_password(password)
    creds.ip_restricted = ip_restricted
    creds.allowed_ips = "\n".join(ips)
    creds.updated_at = timezone.now()
    creds.save()
    return creds


def protocol_credentials_delete(*, account: Account) -> None:
    ProtocolCredentials.objects.filter(account=account).delete()


_DUMMY_HASH = None
FAILURES_LIMIT = 20
FAILURES_WINDOW = 600


class ProtocolAuthError(Exception):
    """Protocol login refused; ``code`` is the legacy calls' code (2 no login
    or password, 3 wrong login or password, 4 IP not allowed, 5 account
    blocked, 6 too many failures from this IP)."""

    def __init__(self, code: int, descr: str):
        super().__init__(descr)
        self.code = code
        self.descr = descr


def protocol_authenticate(*, request, login: str, password: str):
    """The account's ``ProtocolCredentials`` for this login and password, from
    an allowed IP; raises ``ProtocolAuthError``.  Failures are counted per IP
    (20 per 10 minutes), then every login from that IP is refused for a while:
    each attempt reserves its place first (atomic, cabinet.ratelimit) and gives
    it back when the password was right.  Shared by ``/lcabApi/…`` and the XML
    API."""
    global _DUMMY_HASH
    ip = client_ip(request) or "-"
    login, password = str(login or ""), str(password or "")
    if not login or not password:
        raise ProtocolAuthError(2, _("Укажите login и password."))
    limits = [ratelimit.Limit(f"lcab-fail:{ip}", FAILURES_LIMIT)]
    if ratelimit.reserve(limits, FAILURES_WINDOW) is not None:
        raise ProtocolAuthError(
            6, _("Слишком много неудачных попыток, повторите через 10 минут.")
        )
    if "\x00" in login or "\x00" in password:
        # PostgreSQL cannot compare text with U+0000: such a login never exists.
        creds = None
    else:
        creds = (
            ProtocolCredentials.objects.select_related("account")
            .filter(login__iexact=login.strip()[:64])
            .first()
        )
    if creds is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = make_password("dummy-password-for-timing")
        check_password(password, _DUMMY_HASH)  # same time as a wrong password
        ok = False
    else:
        ok = check_password(password, creds.password_hash)
    if not ok:
        raise ProtocolAuthError(3, _("Неверный логин или пароль."))
    ratelimit.release(limits)
    if not ip_allowed(ip if ip != "-" else None, creds.allowed_ip_list()):
        raise ProtocolAuthError(
            4, _("Доступ по протоколу с IP-адреса %(ip)s запрещён.") % {"ip": ip}
        )
    if creds.account.is_blocked:
        raise ProtocolAuthError(5, _("Аккаунт заблокирован."))
    now = timezone.now()
    if creds.last_used_at is None or (now - creds.last_used_at).total_seconds() > 60:
        ProtocolCredentials.objects.filter(pk=creds.pk).update(last_used_at=now)
    return creds


# --- webhook settings -------------------------------------------------------------


def webhook_url_check(url: str) -> str:
    try:
        return public_url_check(url)
    except UnsafeUrl as exc:
        raise IntegrationError(exc.message) from None


def webhook_save(
    *,
    account: Account,
    url: str,
    is_active: bool = True,
    send_statuses: bool = True,
    send_incoming: bool = True,
) -> WebhookEndpoint:
    url = webhook_url_check(url)
    endpoint, _created = WebhookEndpoint.objects.get_or_create(
        account=account, defaults={"url": url}
    )
    endpoint.url = url
    endpoint.is_active = is_active
    endpoint.send_statuses = send_statuses
    endpoint.send_incoming = send_incoming
    endpoint.updated_at = timezone.now()
    endpoint.save()
    return endpoint


def webhook_secret_rotate(*, account: Account) -> WebhookEndpoint:
    from .models import new_webhook_secret

    endpoint = WebhookEndpoint.objects.get(account=account)
    endpoint.secret = new_webhook_secret()
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


# --- the outbox -------------------------------------------------------------------


_OUTBOX_INSERT = (
    "INSERT INTO integrations_webhookevent (kind, created_at, state, next_attempt_at, "
    "account_id, endpoint_id, message_id, campaign_id, old_status, new_status, "
    "payload, attempts) "
    "SELECT %s, %s, %s, %s, c.account_id, e.id, v.mid, v.cid, v.old, v.new, "
    "{payload}, 0 FROM {source} "
    "JOIN messaging_campaign c ON c.id = v.cid "
    "JOIN integrations_webhookendpoint e ON e.account_id = c.account_id "
    "AND e.is_active AND e.send_statuses"
)


def webhook_events_from_changes(changes: list[tuple[int, int, str, str]]) -> int:
    """Write one outbox row per status change of an account that has an active
    webhook with statuses on — one ``INSERT … SELECT`` per 5,000 changes.
    Returns rows written.  Never calls out."""
    if not changes:
        return 0
    # Most accounts have no webhook: find the campaigns whose account has one
    # (a handful of ids per batch, one small query) before sending thousands
    # of changes to the database to be joined with nothing (~5 µs a change,
    # a tenth of the engine's time on a batch).
    hooked = _campaigns_with_status_webhook({c[1] for c in changes})
    changes = [c for c in changes if c[1] in hooked]
    if not changes:
        return 0
    now = timezone.now()
    written = 0
    for start in range(0, len(changes), 5000):
        chunk = changes[start : start + 5000]
        params = [WebhookEvent.Kind.STATUS, now, WebhookEvent.State.PENDING, now]
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                source = (
                    "unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) "
                    "AS v(mid, cid, old, new)"
                )
                cur.execute(
                    _OUTBOX_INSERT.format(source=source, payload="'{}'::jsonb"),
                    params + [[c[i] for c in chunk] for i in range(4)],
                )
            else:
                values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                cur.execute(
                    f"WITH v(mid, cid, old, new) AS (VALUES {values}) "
                    + _OUTBOX_INSERT.format(source="v", payload="'{}'"),
                    [x for c in chunk for x in c] + params,
                )
            written += max(cur.rowcount, 0)
    if written:
        _kick()
    return written


def _campaigns_with_status_webhook(campaign_ids: set[int]) -> set[int]:
    """Those of these campaigns whose account has an active webhook with
    statuses on (the join ``_OUTBOX_INSERT`` makes)."""
    return set(
        Campaign.objects.filter(
            pk__in=sorted(campaign_ids),
            account__webhook_endpoint__is_active=True,
            account__webhook_endpoint__send_statuses=True,
        ).values_list("pk", flat=True)
    )


def webhook_event_add(*, account_id: int, kind: str, data: dict) -> WebhookEvent | None:
    """Queue one event (an incoming message, a reply, a test) for the account's
    webhook; ``None`` when it has no active webhook for that kind."""
    endpoint = WebhookEndpoint.objects.filter(
        account_id=account_id, is_active=True
    ).first()
    if endpoint is None:
        return None
    if kind == WebhookEvent.Kind.INCOMING and not endpoint.send_incoming:
        return None
    if kind == WebhookEvent.Kind.STATUS and not endpoint.send_statuses:
        return None
    event = WebhookEvent.objects.create(
        account_id=account_id, endpoint=endpoint, kind=kind, payload=data
    )
    transaction.on_commit(_kick)
    return event


def _kick() -> None:
    """Ask for a delivery soon, at most once a second (the periodic task is the
    safety net)."""
    if cache.add("webhooks:kick", 1, timeout=1):
        from .tasks import webhooks_deliver_due

        transaction.on_commit(lambda: webhooks_deliver_due.delay())


# --- delivery ---------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4, 8 … minutes, at most 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()


def due_endpoints(limit: int = 500) -> list[int]:
    now = timezone.now()
    return list(
        WebhookEvent.objects.filter(
            state=WebhookEvent.State.PENDING, next_attempt_at__lte=now
        )
        .values_list("endpoint_id", flat=True)
        .distinct()[:limit]
    )


def _claim(endpoint_id: int, limit: int, lease: timedelta) -> list[WebhookEvent]:
    now = timezone.now()
    with transaction.atomic():
        qs = WebhookEvent.objects.filter(
            endpoint_id=endpoint_id,
            state=WebhookEvent.State.PENDING,
            next_attempt_at__lte=now,
        ).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        events = list(qs[:limit])
        if events:
            WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).update(
                next_attempt_at=now + lease
            )
    return events


def _event_data(events: list[WebhookEvent]) -> list[dict]:
    from .compat import status_word

    ids = [
        e.message_id
        for e in events
        if e.kind == WebhookEvent.Kind.STATUS and e.message_id
    ]
    messages = {
        m["id"]: m
        for m in Message.objects.filter(
            id__in=ids, account_id=events[0].account_id
        ).values(
            "id",
            "client_ref",
            "phone",
            "reason",
            "price",
            "parts",
            "status_at",
            "channel",
        )
    }
    out = []
    for e in events:
        item = {"id": e.pk, "type": e.kind, "created_at": e.created_at.isoformat()}
        if e.kind == WebhookEvent.Kind.STATUS:
            m = messages.get(e.message_id, {})
            item["data"] = {
                "message_id": e.message_id,
                "campaign_id": e.campaign_id,
                "client_id": m.get("client_ref") or None,
                "phone": m.get("phone"),
                "channel": m.get("channel"),
                "status": e.new_status,
                "old_status": e.old_status,
                "status_word": status_word(e.new_status),
                "reason": m.get("reason") or "",
                "price": str(m["price"]) if m else None,
                "parts": m.get("parts"),
            }
        else:
            item["data"] = e.payload
        out.append(item)
    return out


@dataclass
class PostResult:
    ok: bool
    status: int | None
    error: str
    excerpt: str
    duration_ms: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_post(url: str, body: bytes, headers: dict, timeout: float) -> PostResult:
    started = time.monotonic()
    if not callable_now(url):
        return PostResult(False, None, "адрес во внутренней сети запрещён", "", 0)
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            excerpt = response.read(300).decode("utf-8", "replace")
            status = response.status
            error = ""
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
        try:
            excerpt = exc.read(300).decode("utf-8", "replace")
        except OSError:
            excerpt = ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        text = (
            "таймаут"
            if isinstance(reason, TimeoutError | socket.timeout)
            or "timed out" in str(reason)
            else str(reason)
        )
        return PostResult(
            False, None, text[:300], "", int((time.monotonic() - started) * 1000)
        )
    duration = int((time.monotonic() - started) * 1000)
    return PostResult(200 <= status < 300, status, error, excerpt[:300], duration)


def webhook_deliver(*, endpoint_id: int) -> int:
    """Deliver the endpoint's due events in batches until none is due or a POST
    fails.  Returns events delivered."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return 0
    timeout = settings.WEBHOOK_TIMEOUT
    lease = timedelta(seconds=timeout * 3 + 30)
    delivered = 0
    for _round in range(50):
        events = _claim(endpoint.pk, settings.WEBHOOK_BATCH_SIZE, lease)
        if not events:
            break
        body = json.dumps(
            {"account_id": endpoint.account_id, "events": _event_data(events)},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "cabinet-webhooks/1.0",
            "X-Timestamp": timestamp,
            "X-Signature": sign(endpoint.secret, timestamp, body),
        }
        if not endpoint.is_active:
            result = PostResult(False, None, "вебхук выключен", "", 0)
        else:
            result = http_post(endpoint.url, body, headers, timeout)
        attempt = max(e.attempts for e in events) + 1
        now = timezone.now()
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                account_id=endpoint.account_id,
                endpoint=endpoint,
                url=endpoint.url,
                events_count=len(events),
                attempt=attempt,
                success=result.ok,
                status_code=result.status,
                error=result.error[:300],
                duration_ms=result.duration_ms,
                response_excerpt=result.excerpt[:300],
            )
            ids = [e.pk for e in events]
            if result.ok:
                WebhookEvent.objects.filter(pk__in=ids).update(
                    state=WebhookEvent.State.DELIVERED,
                    delivery=delivery,
                    attempts=attempt,
                )
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                    failures=0, last_success_at=now
                )
                delivered += len(events)
            else:
                retry_at = now + backoff(attempt)
                give_up = attempt >= settings.WEBHOOK_MAX_ATTEMPTS
                WebhookEvent.objects.filter(pk__in=ids).update(
                    attempts=attempt,
                    delivery=delivery,
                    next_attempt_at=retry_at,
                    state=WebhookEvent.State.FAILED
                    if give_up
                    else WebhookEvent.State.PENDING,
                )
                delivery.next_attempt_at = None if give_up else retry_at
                delivery.save(update_fields=["next_attempt_at"])
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                    failures=F("failures") + 1, last_failure_at=now
                )
        if not result.ok:
            break
    return delivered


def webhook_test(*, account: Account) -> WebhookEvent | None:
    return webhook_event_add(
        account_id=account.pk,
        kind=WebhookEvent.Kind.TEST,
        data={
            "message": "Тестовое событие из личного кабинета",
            "sent_at": timezone.now().isoformat(),
        },
    )


def webhook_history_purge(*, days: int = 30) -> int:
    """Drop delivered or abandoned events and log rows older than ``days``
    (pending events are kept whatever their age).  Returns rows deleted."""
    cutoff = timezone.now() - timedelta(days=days)
    events, _ = WebhookEvent.objects.filter(
        created_at__lt=cutoff,
        state__in=[WebhookEvent.State.DELIVERED, WebhookEvent.State.FAILED],
    ).delete()
    deliveries, _ = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff)
        .exclude(events__state=WebhookEvent.State.PENDING)
        .delete()
    )
    return events + deliveries


# --- a voice menu's «request a URL» ----------------------------------------------


def ivr_request_post(*, account_id: int, url: str, payload: dict) -> PostResult:
    """POST what a recipient pressed to the client's URL (the voice menu's
    «Запрос на URL»), signed like webhooks with the account's webhook secret
    (unsigned when the account has no webhook), with the webhooks' rules:
    public addresses only, no redirects, ``WEBHOOK_TIMEOUT``."""
    body = json.dumps(
        {"account_id": account_id, **payload},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "cabinet-webhooks/1.0",
        "X-Timestamp": timestamp,
    }
    endpoint = WebhookEndpoint.objects.filter(account_id=account_id).first()
    if endpoint is not None:
        headers["X-Signature"] = sign(endpoint.secret, timestamp, body)
    return http_post(url, body, headers, settings.WEBHOOK_TIMEOUT)
