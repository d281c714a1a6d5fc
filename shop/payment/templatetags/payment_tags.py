import uuid

from django import template

from shop.constants import AWAITING_PAYMENT, CANCELLED

register = template.Library()


@register.simple_tag
def refund_token() -> str:
    """A fresh token per refund form shown: submitting that form twice refunds once."""
    return uuid.uuid4().hex


@register.filter
def awaiting_payment(order) -> bool:
    """The order waits for its card payment (shop/constants.py AWAITING_PAYMENT)."""
    return order.status == AWAITING_PAYMENT


@register.filter
def cancelled(order) -> bool:
    return order.status == CANCELLED
