"""What an order has paid and what is left, and whether it is collected in a store."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..constants import AT_PICKUP_SOURCE_TYPE, PICKUP_SHIPPING_CODE, POINTS_SOURCE_TYPE
from ..models import Pickup

# The Oscar payment source types the checkout records (stores/constants.py): points pay
# part of an order at checkout; "pay at pickup" is settled by staff at hand-over.


@dataclass(frozen=True)
class OrderAmounts:
    """The money of one order as a customer or a member of staff needs it.

    `points_value` is what loyalty points paid, `paid` the money received otherwise
    (card, or at pickup once handed over), `left_to_pay` what is still owed, of which
    `due_at_pickup` is to be collected at the counter (the rest is a card payment
    still awaited online).
    """

    currency: str
    total: Decimal
    # How the checkout described the points ("800 points"), in the shopper's language.
    points_label: str
    points_value: Decimal
    paid: Decimal
    left_to_pay: Decimal
    due_at_pickup: Decimal


def _is_pickup(order: Any) -> bool:
    # Read through the relation, so pickups loaded with select_related("order") (the
    # queue) answer from memory.
    try:
        return order.pickup is not None
    except Pickup.DoesNotExist:
        return False


def order_is_pickup(order: Any) -> bool:
    """Whether `order` is collected in a store (click & collect), for loyalty's bonus.

    Read from the order's shipping method code, so that it answers from the moment the
    order is placed: Oscar sends order_placed before the checkout books the order's
    Pickup, in the same transaction (docs/architecture.md, "Constants"). No query.
    """
    return order.shipping_code == PICKUP_SHIPPING_CODE


def order_amounts(*, order: Any) -> OrderAmounts:
    """Total, points part, money received and what is left to pay, from the order's
    Oscar payment sources (every page, message and hand-over shows these figures).

    Reads `order.sources.all()`, so a list of orders prefetching
    `sources__source_type` costs no query per order. A click & collect order without
    payment sources (the demo seeder's) owes its whole total at pickup.
    """
    zero = Decimal("0.00")
    points_value = paid = awaited_online = zero
    labels = []
    sources = list(order.sources.all())
    for source in sources:
        code = source.source_type.code
        debited = source.amount_debited or zero
        if code == POINTS_SOURCE_TYPE:
            points_value += debited
            if source.label:
                labels.append(source.label)
            continue
        paid += debited
        if code != AT_PICKUP_SOURCE_TYPE:
            awaited_online += max((source.amount_allocated or zero) - debited, zero)
    total = order.total_incl_tax
    left = max(total - points_value - paid, zero)
    if sources:
        due_at_pickup = max(left - awaited_online, zero)
    else:
        due_at_pickup = left if _is_pickup(order) else zero
    return OrderAmounts(
        currency=order.currency,
        total=total,
        points_label=", ".join(labels),
        points_value=points_value,
        paid=paid,
        left_to_pay=left,
        due_at_pickup=due_at_pickup,
    )
