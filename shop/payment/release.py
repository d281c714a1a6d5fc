"""A paid order cancelled and refunded now, for a caller outside any status change.

Cancellation is owned by shop/orders/cancellation.py (`order_cancel`); this is its paid
path with the refund sent at once rather than when a transaction commits.
"""

from __future__ import annotations

from shop.constants import PAID
from shop.orders.cancellation import order_cancel, order_cancel_refund_send

from .models import StripeRefund


def order_cancelled_paid(order) -> StripeRefund | None:
    """A paid order's cancellation work (order_cancel, once per refund key: a retried
    call refunds and releases nothing more), then its refund sent with no row locked.
    Returns the refund made, if any."""
    order_cancel(order, old_status=PAID)
    return order_cancel_refund_send(order)
