from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ values|get_item:name }}``: a dict's value by a variable key."""
    if not mapping:
        return ""
    return mapping.get(key, "")
