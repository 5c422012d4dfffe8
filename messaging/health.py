"""The carrier links' state for ``/healthz`` (``settings.HEALTH_CHECKS``): each
link-based gateway publishes it to the cache from the worker that holds the
link (``SmppGateway.publish_health``)."""

import time

from django.conf import settings
from django.core.cache import cache

STALE_SECONDS = 120


def gateways() -> dict[str, str]:
    """``{"<channel>_gateway": "ok" | "error: …"}`` for every gateway whose link
    state was published (fake gateways publish none)."""
    checks = {}
    for channel in sorted(settings.MESSAGING_GATEWAYS):
        state = cache.get(f"messaging:gateway:{channel}")
        if not state:
            continue
        key = f"{channel}_gateway"
        if time.time() - state.get("at", 0) > STALE_SECONDS:
            checks[key] = "error: no worker holds the carrier link"
        elif state["status"] == "ok":
            checks[key] = "ok"
        else:
            checks[key] = f"{state['status']}: {state['detail']}".strip()
    return checks
