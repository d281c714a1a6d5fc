"""Card payments: what happens to an order when its PaymentIntent moves.

The flow (README "Payments"):

1. Checkout creates the PaymentIntent (intents.py) and the order is placed in "Pending
   payment" with its stock, pickup slot and points held. The card is charged afterwards,
   by Stripe.js on the pay page.
2. Whoever learns first that the PaymentIntent succeeded -- the browser coming back, the
   webhook, or the reconciliation job -- calls ``payment_apply``. It locks the payment
   row, moves its status forward only (R3) and settles the order once: amount and
   currency must match (R8) or the order is held for review; a paid order goes to
   "Pending", gets its payment event and its confirmation message.
3. A cancelled PaymentIntent releases what the order held (release.py). A declined
   attempt does not: the shopper may try another card until the hold expires
   (PAYMENT_HOLD_MINUTES), when ``payments_reconcile`` (reconciliation.py) cancels it at
   Stripe and releases.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.sites.models import Site
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_class, get_model

from shop.constants import AWAITING_PAYMENT, PAID, PAYMENT_REVIEW
from shop.orders.cancellation import payment_order_release

from . import gateway
from .constants import PAID_EVENT
from .models import PaymentStatus, StripePayment
from .money import from_minor

if TYPE_CHECKING:
    from oscar.apps.order.models import Order
else:
    Order = get_model("order", "Order")

logger = logging.getLogger(__name__)

PaymentEventType = get_model("order", "PaymentEventType")


# R3: a status never goes back. Webhook events arrive in any order, so an event can only
# raise the rank; a fresh read from Stripe (authoritative) may also move a payment that is
# not final back, e.g. "processing" to "requires_payment_method" when a debit failed.
RANK: dict[str, int] = {
    PaymentStatus.REQUIRES_PAYMENT_METHOD: 0,
    PaymentStatus.REQUIRES_CONFIRMATION: 1,
    PaymentStatus.REQUIRES_ACTION: 1,
    PaymentStatus.PROCESSING: 2,
    PaymentStatus.REQUIRES_CAPTURE: 3,
    PaymentStatus.SUCCEEDED: 4,
    PaymentStatus.CANCELED: 4,
}
FINAL = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED})


@dataclass(frozen=True)
class SettleResult:
    """A payment after applying a PaymentIntent: `transitioned` is True for the one call
    that moved its status (the one that settled or released its order)."""

    payment: StripePayment
    transitioned: bool


def _moves_forward(current: str, new: str, *, authoritative: bool) -> bool:
    if current == new or current in FINAL:
        return False
    if authoritative:
        return True
    return RANK.get(new, -1) > RANK.get(current, -1)


@transaction.atomic
def payment_apply(*, payment_intent: dict, authoritative: bool = False) -> SettleResult | None:
    """Bring our payment and its order in line with `payment_intent` (Stripe's JSON).

    `authoritative` is for a PaymentIntent just read from Stripe; webhook event payloads
    may be stale and only move the status forward. Idempotent and safe under concurrency:
    the payment row is locked, and the order is settled or released once; the result's
    `transitioned` is True for the one call that moved it. None for a PaymentIntent
    that is not ours.
    """
    payment = (
        StripePayment.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(payment_intent_id=payment_intent["id"])
        .first()
    )
    if payment is None:
        return None
    error = payment_intent.get("last_payment_error") or {}
    if error.get("message"):
        payment.last_error = error["message"][:500]
    new = payment_intent["status"]
    transitioned = _moves_forward(payment.status, new, authoritative=authoritative)
    if transitioned:
        payment.status = new
        if new == PaymentStatus.SUCCEEDED:
            _settle(payment, payment_intent)
        elif new == PaymentStatus.CANCELED:
            payment.save()  # before the order's receivers look at it
            payment_order_release(payment, reason=_("The card payment was cancelled."))
    payment.save()
    return SettleResult(payment, transitioned)


def payment_refresh(payment: StripePayment) -> SettleResult:
    """Read the PaymentIntent from Stripe and apply it (raises GatewayError)."""
    intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
    return payment_apply(payment_intent=intent, authoritative=True) or SettleResult(
        payment, transitioned=False
    )


def payment_cancel(payment: StripePayment, *, reason: str = "abandoned") -> SettleResult:
    """Cancel at Stripe, then release the order; if it was paid meanwhile, settle it."""
    try:
        intent = gateway.payment_intent_cancel(payment.payment_intent_id, reason=reason)
    except gateway.GatewayError as exc:
        if exc.transient:
            raise
        # Already succeeded or cancelled at Stripe: apply what it is now.
        intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
    return payment_apply(payment_intent=intent, authoritative=True) or SettleResult(
        payment, transitioned=False
    )


def payment_flag(payment: StripePayment, reason: str) -> None:
    payment.needs_review = True
    payment.review_reason = reason[:500]
    logger.error("Payment %s needs review: %s", payment.payment_intent_id, reason)


def _settle(payment: StripePayment, intent: dict) -> None:
    currency = intent["currency"].upper()
    received = from_minor(intent.get("amount_received") or 0, currency)
    payment.amount_received = received
    order = payment.order
    if order is None:
        payment_flag(
            payment, _("Charged at Stripe but no order exists: refund it or contact the payer.")
        )
        return
    order = Order.objects.select_for_update().get(pk=order.pk)
    if currency != payment.currency or received != payment.amount:
        # R8: never confirm an order for a different amount than it costs.
        payment_flag(
            payment,
            _("Received %(got)s %(cur)s for an order of %(want)s %(ocur)s.")
            % {"got": received, "cur": currency, "want": payment.amount, "ocur": payment.currency},
        )
        if order.status == AWAITING_PAYMENT:
            order.set_status(PAYMENT_REVIEW)
        return
    if order.status != AWAITING_PAYMENT:
        payment_flag(
            payment,
            _("Paid while the order was '%(status)s': re-instate the order or refund.")
            % {"status": order.status},
        )
        return
    source = order.sources.filter(reference=payment.payment_intent_id).first()
    if source is not None:
        source.debit(received, reference=payment.payment_intent_id, status=PaymentStatus.SUCCEEDED)
    event_type, _created = PaymentEventType.objects.get_or_create(name=PAID_EVENT)
    order.payment_events.create(
        event_type=event_type, amount=received, reference=payment.payment_intent_id
    )
    order.set_status(PAID)
    # Settled by the customer's return to the pay page or by Stripe's webhook (outside the
    # language prefix, README "Languages"): either way the customer reads the confirmation
    # in the language they ordered in, as its order lines' titles are.
    with translation.override(payment.language or translation.get_language()):
        order_confirmation_send(order)


def order_confirmation_send(order: Order) -> None:
    """Oscar's "order placed" message, sent when a card order is paid (not when placed)."""
    OrderDispatcher = get_class("order.utils", "OrderDispatcher")
    ctx = {"user": order.user, "order": order, "lines": order.lines.all()}
    try:
        if order.user_id:
            path = reverse("customer:order", kwargs={"order_number": order.number})
        else:
            path = reverse(
                "customer:anon-order",
                kwargs={"order_number": order.number, "hash": order.verification_hash()},
            )
    except NoReverseMatch:
        pass
    else:
        ctx["status_path"] = path
        ctx["status_url"] = f"https://{Site.objects.get_current().domain}{path}"
    OrderDispatcher(logger=logger).send_order_placed_email_for_user(order, ctx)
