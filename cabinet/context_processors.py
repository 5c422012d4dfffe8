from .menu import MENU
from .selectors import unread_notifications_count

# Pages outside every menu item's address that belong to one (the highlighted
# item tells the person where they are): path prefix → item slug.
MENU_ALIASES = {
    "/messages/": "sms-reports",
    "/reports/viber/": "viber-reports",
    "/reports/voice/": "voice-reports",
    "/reports/vk/": "social-reports",
    "/reports/ok/": "social-reports",
}


def _menu_for(path: str) -> list[dict]:
    sections = []
    best = ("", None)
    alias = next((slug for p, slug in MENU_ALIASES.items() if path.startswith(p)), None)
    aliased = None
    for section in MENU:
        items = []
        for item in section.items:
            href = item.href()
            entry = {
                "slug": item.slug,
                "label": item.label,
                "href": href,
                "active": False,
            }
            if path.startswith(href) and len(href) > len(best[0]):
                best = (href, entry)
            if alias == item.slug:
                aliased = entry
            items.append(entry)
        sections.append(
            {
                "slug": section.slug,
                "label": section.label,
                "icon": section.icon,
                "items": items,
            }
        )
    if aliased is not None:
        best = ("", aliased)
    if best[1] is not None:
        best[1]["active"] = True
        for section in sections:
            section["open"] = any(i["active"] for i in section["items"])
    return sections


def shell(request):
    """Menu, balance and unread notifications for the cabinet layout."""
    account = getattr(request, "account", None)
    if account is None:
        return {}
    return {
        "menu": _menu_for(request.path),
        "account": account,
        "unread_notifications": unread_notifications_count(account_id=account.pk),
    }
