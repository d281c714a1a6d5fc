"""`{% load order_statuses %}{% order_statuses as statuses %}`: the order statuses of
shop/constants.py, so that templates compare `order.status == statuses.AWAITING_PAYMENT`
rather than against a literal (docs/architecture.md, "Constants")."""

from django import template

from shop import constants

register = template.Library()

STATUSES = {
    name: getattr(constants, name)
    for name in (
        "AWAITING_PAYMENT",
        "PAYMENT_REVIEW",
        "PAID",
        "BEING_PROCESSED",
        "COMPLETE",
        "CANCELLED",
    )
}


@register.simple_tag
def order_statuses() -> dict[str, str]:
    """{constant name: status}, e.g. {"AWAITING_PAYMENT": "Pending payment", ...}."""
    return STATUSES
