"""The staff's moderation queues (``cabinet.moderation``) for the admin index."""

from django import template
from django.contrib.auth import get_permission_codename

from cabinet import moderation

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_queues(context) -> list[dict]:
    """Each registered queue the user may see: label, items waiting, link."""
    user = context["request"].user
    if not (user.is_active and user.is_staff):
        return []
    rows = []
    for queue in moderation.queues():
        opts = queue.model._meta
        if not any(
            user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("view", "change")
        ):
            continue
        rows.append({"label": queue.label, "count": queue.count(), "url": queue.url()})
    return rows


@register.simple_tag(takes_context=True)
def outside_services(context) -> list[dict]:
    """The state of outside services (``settings.HEALTH_CHECKS``: carrier
    links) for the staff's start page, as ``/healthz`` reports them: name,
    ok, detail."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    user = context["request"].user
    if not (user.is_active and user.is_staff):
        return []
    rows = []
    for path in getattr(settings, "HEALTH_CHECKS", []):
        try:
            checks = import_string(path)()
        except Exception as exc:  # noqa: BLE001 - shown, never raised
            checks = {path: f"error: {exc.__class__.__name__}"}
        for name, value in sorted(checks.items()):
            rows.append({"name": name, "ok": value == "ok", "detail": value})
    return rows
