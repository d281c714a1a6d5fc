"""Starting a card payment for checkout: the order's PaymentIntent is created before the
order is placed (deterministic idempotency key, R6), stored in the order's transaction, and
cancelled if the order is not placed. The card is charged afterwards, by Stripe.js on the
pay page (shop/payment/views.py)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from . import gateway
from .models import PaymentStatus, StripePayment
from .money import from_minor, to_minor

if TYPE_CHECKING:
    from oscar.apps.order.models import Order

logger = logging.getLogger(__name__)


def card_payment_start(*, order_number: str, amount: Decimal, currency: str) -> dict:
    """The PaymentIntent for `order_number` (created once, whatever the retries).

    If an earlier placement of this order number failed, its PaymentIntent was cancelled
    (card_payment_abandon or reconciliation): the next attempt's key gives a new one,
    still deterministic, so retrying this placement replays it (R6).
    """
    for attempt in range(1, MAX_PAYMENT_ATTEMPTS + 1):
        intent = gateway.payment_intent_create(
            order_number=order_number,
            amount_minor=to_minor(amount, currency),
            currency=currency,
            # Not translated: the same on every retry of this order (see the gateway).
            description=f"{settings.OSCAR_SHOP_NAME} order {order_number}",
            attempt=attempt,
        )
        if intent["status"] != PaymentStatus.CANCELED:
            return intent
    raise gateway.GatewayError(
        _("This order could not be placed too many times; please start a new basket."),
        code="too_many_attempts",
    )


MAX_PAYMENT_ATTEMPTS = 20


def card_payment_record(*, order: Order, payment_intent: dict) -> StripePayment:
    """Store the order's PaymentIntent, in the order's transaction."""
    currency = payment_intent["currency"].upper()
    return StripePayment.objects.create(
        order=order,
        order_number=order.number,
        payment_intent_id=payment_intent["id"],
        amount=from_minor(payment_intent["amount"], currency),
        currency=currency,
        status=payment_intent["status"],
        language=translation.get_language() or "",
    )


def card_payment_abandon(*, payment_intent_id: str) -> None:
    """The order could not be placed: the PaymentIntent is cancelled (nothing was charged).

    Best effort: if Stripe cannot be reached, reconciliation cancels it later (R5).
    """
    try:
        gateway.payment_intent_cancel(payment_intent_id, reason="abandoned")
    except gateway.GatewayError as exc:
        logger.warning("PaymentIntent %s not cancelled now (%s)", payment_intent_id, exc)
