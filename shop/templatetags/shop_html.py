"""`{% load shop_html %}{{ product.description|sanitized }}`: rich text through the allow-list.

Use it instead of `|safe` wherever stored HTML is printed (shop/rich_text.py says why).
"""

from django import template
from django.utils.safestring import SafeString, mark_safe

from shop.rich_text import rich_text_clean

register = template.Library()


@register.filter(is_safe=True)
def sanitized(value: object) -> SafeString:
    """`value` as HTML with only the allowed tags and attributes, marked safe."""
    return mark_safe(rich_text_clean(None if value is None else str(value)))  # noqa: S308
