"""Oscar payment source types, payment event names and Stripe's refund statuses, defined
once (docs/architecture.md, "Constants").

Plain Python. The two source types that `stores` also reads (points, pay at pickup) are
defined in stores/constants.py, as `stores` never imports `shop`.
"""

from stores.constants import AT_PICKUP_SOURCE_TYPE, POINTS_SOURCE_TYPE

# Source types (code, name). A source's name is also the name of the payment event that
# records the amount allocated to it at checkout.
CARD_SOURCE_TYPE = "stripe-card"
CARD_SOURCE_NAME = "Card (Stripe)"
AT_PICKUP_SOURCE_NAME = "Pay at pickup"
TEST_SOURCE_TYPE = "test-payment"
TEST_SOURCE_NAME = "Test payment (no money moved)"
POINTS_SOURCE_NAME = "Loyalty points"

# Payment events recorded after checkout.
PAID_EVENT = "Paid"
PAID_AT_PICKUP_EVENT = "Paid at pickup"
REFUNDED_EVENT = "Refunded"
REFUND_FAILED_EVENT = "Refund failed"

# Stripe's refund statuses (https://docs.stripe.com/api/refunds/object#refund_object-status).
# Our own attempt statuses, before Stripe answered, are on StripeRefund (models.py).
REFUND_SUCCEEDED = "succeeded"
REFUND_PENDING = "pending"
REFUND_FAILED = "failed"
REFUND_CANCELED = "canceled"

__all__ = [
    "AT_PICKUP_SOURCE_NAME",
    "AT_PICKUP_SOURCE_TYPE",
    "CARD_SOURCE_NAME",
    "CARD_SOURCE_TYPE",
    "PAID_AT_PICKUP_EVENT",
    "PAID_EVENT",
    "POINTS_SOURCE_NAME",
    "POINTS_SOURCE_TYPE",
    "REFUNDED_EVENT",
    "REFUND_CANCELED",
    "REFUND_FAILED",
    "REFUND_FAILED_EVENT",
    "REFUND_PENDING",
    "REFUND_SUCCEEDED",
    "TEST_SOURCE_NAME",
    "TEST_SOURCE_TYPE",
]
