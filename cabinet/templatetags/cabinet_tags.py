from django import template

from cabinet.menu import find_item

register = template.Library()


@register.simple_tag
def menu_href(slug: str) -> str:
    """The address of a menu item (its page, or "в разработке" until built)."""
    found = find_item(slug)
    return found[1].href() if found else "#"
