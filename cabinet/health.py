from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string


def healthz(request):
    """Database and broker reachability, for load balancers and `docker compose`."""
    checks = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        from cabinet.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    # Outside services (a carrier link, ``settings.HEALTH_CHECKS``) are reported
    # but do not take this instance out of a load balancer: "degraded".
    extra = {}
    for path in getattr(settings, "HEALTH_CHECKS", []):
        try:
            extra.update(import_string(path)())
        except Exception as exc:  # noqa: BLE001
            extra[path] = f"error: {exc.__class__.__name__}"
    status = "ok" if healthy else "error"
    if healthy and any(v != "ok" for v in extra.values()):
        status = "degraded"
    return JsonResponse(
        {"status": status, **checks, **extra},
        status=200 if healthy else 503,
    )
