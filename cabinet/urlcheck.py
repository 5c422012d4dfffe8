"""Addresses the service itself calls (webhooks, a voice menu's «request a
URL»): public http(s) only — no loopback, private or link-local hosts, no
credentials in the URL — unless ``WEBHOOK_ALLOW_PRIVATE`` (tests, on-premise).
One rule for every app that calls out (integrations, voice)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeUrl(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def private_host(host: str) -> bool:
    """A host name that is plainly internal (localhost, a non-global IP)."""
    host = (host or "").strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not addr.is_global


def resolves_private(host: str) -> bool:
    """A name that resolves to an internal address (checked again at call
    time: DNS may change after the URL was saved)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return any(
        not ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos
    )


def public_url_check(url: str) -> str:
    """The cleaned URL, or ``UnsafeUrl`` with the rule it breaks."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl(_("Адрес должен начинаться с http:// или https://."))
    if parts.username or parts.password:
        raise UnsafeUrl(_("Адрес не должен содержать логин и пароль."))
    if private_host(parts.hostname) and not settings.WEBHOOK_ALLOW_PRIVATE:
        raise UnsafeUrl(
            _(
                "Адрес во внутренней сети недоступен: укажите публичный "
                "адрес вашего сервера."
            )
        )
    return url


def callable_now(url: str) -> bool:
    """May the service POST to ``url`` right now (re-checks DNS)?"""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    host = urlsplit(url).hostname or ""
    return not (private_host(host) or resolves_private(host))
