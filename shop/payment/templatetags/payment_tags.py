import uuid

from django import template

register = template.Library()


@register.simple_tag
def refund_token() -> str:
    """A fresh token per refund form shown: submitting that form twice refunds once."""
    return uuid.uuid4().hex
