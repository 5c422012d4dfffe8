"""The ``money`` filter, a template builtin (settings.TEMPLATES): every amount
of roubles on a page is written by it, so they all look alike."""

from django import template
from django.utils.html import format_html

from cabinet import formats

register = template.Library()


@register.filter
def money(value):
    """``{{ x|money }}`` → «2,75&nbsp;₽»; empty for None."""
    if value is None or value == "":
        return ""
    return format_html("{}&nbsp;{}", formats.amount(value), formats.RUB)
