import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address.  X-Forwarded-For is trusted only when the project
    says it runs behind a proxy (``TRUST_X_FORWARDED_FOR``)."""
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


def ip_allowed(ip: str | None, allowed: list[str]) -> bool:
    """True when ``allowed`` is empty or ``ip`` is in one of its addresses or
    networks (CIDR)."""
    if not allowed:
        return True
    if not ip:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if addr in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
