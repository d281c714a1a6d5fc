"""Cancelling an order: its work done once, explicitly, in the lock order
(docs/architecture.md, "Lock order"; docs/guarantees.md R14).

- ``order_cancel``: run by the one status change to "Cancelled" (shop/payment/receivers.py),
  whoever makes it. In one transaction: the order, its card payment (a paid order's
  refund is reserved as a ``sending`` attempt; an unpaid one's PaymentIntent is stopped or
  its payment put in front of staff), then what ``order_released`` gives back.
- ``order_cancel_refund_send``: the reserved refund asked of Stripe once that transaction
  has committed, with no row locked (docs/architecture.md, "No Stripe call while a row is
  locked"). If the process dies first, reconciliation completes the ``sending`` attempt
  with its key, so Stripe makes it once.
- ``payment_order_release`` / ``order_release``: a card payment cancelled at Stripe, or an
  unpaid order cancelled by us: a note, then the status change.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from loyalty.services.earning import order_points_void
from loyalty.services.redemption import order_redemption_reverse
from shop.constants import AWAITING_PAYMENT, BEING_PROCESSED, CANCELLED, PAID, PAYMENT_REVIEW
from shop.offer.cache import offers_version_bump
from shop.payment.intents import card_payment_abandon
from shop.payment.models import PaymentStatus, StripePayment, StripeRefund
from shop.payment.money import money_display
from shop.payment.refunds import (
    RefundRefused,
    refund_attempt_complete,
    refund_finish,
    refund_reserve,
)
from stores.services import pickup_release
from stores.stock import stock_release_lines

if TYPE_CHECKING:
    from oscar.apps.order.models import Order as OrderType

ConditionalOffer = get_model("offer", "ConditionalOffer")
Order = get_model("order", "Order")
OrderNote = get_model("order", "OrderNote")
Voucher = get_model("voucher", "Voucher")
VoucherApplication = get_model("voucher", "VoucherApplication")

UNPAID = (AWAITING_PAYMENT, PAYMENT_REVIEW)
# Statuses of an order that is paid (or to be paid at pickup) and not yet complete.
PAID_OPEN = (PAID, BEING_PROCESSED)
CANCEL_REFUND_KEY = "cancel"


def payment_order_release(payment: StripePayment, *, reason: str) -> None:
    """A card payment was cancelled at Stripe: its order, if still unpaid, is cancelled."""
    if payment.order is None:
        return
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if order.status in UNPAID:
        order_release(order, reason=reason)


def order_release(order: OrderType, *, reason: str) -> None:
    """An unpaid order is cancelled: a note, then the status change, which runs
    order_cancel (shop/payment/receivers.py)."""
    order.notes.create(note_type=OrderNote.SYSTEM, message=reason)
    order.set_status(CANCELLED)


@transaction.atomic
def order_cancel(order: OrderType, *, old_status: str) -> StripeRefund | None:
    """The work of an order cancelled from `old_status`, once, in the lock order: the
    order, its card payment, then the member, vouchers and offers, stock records and the
    pickup slot (order_released). Returns the refund attempt reserved for a paid card
    order, sent once this transaction commits (order_cancel_refund_send).

    An order cancelled from any other status ("Complete") gives nothing back here.
    """
    if old_status not in UNPAID + PAID_OPEN:
        return None
    Order.objects.select_for_update().only("pk").get(pk=order.pk)
    payment = StripePayment.objects.select_for_update().filter(order=order).first()
    attempt = None
    if old_status in PAID_OPEN:
        attempt = _refund_reserve(order, payment)
    elif payment is not None:
        _unpaid_payment_stop(payment)
    order_released(order)
    if attempt is not None:
        transaction.on_commit(partial(_refund_send, order, attempt))
    return attempt


def order_released(order: OrderType) -> None:
    """What a cancelled order gives back: points, voucher and offer usage, stock
    allocation and pickup slot, in the checkout's lock order (the member's row, then the
    vouchers and offers, then stock rows in primary-key order, then the pickup slot), so a
    hold expiring or a cancellation while a checkout uses the same rows cannot deadlock
    (R14). The pickup is released without `pickup_cancelled`: its receivers would give
    back again what is given back here."""
    reason = _("Order %(number)s cancelled") % {"number": order.number}
    order_redemption_reverse(order_number=order.number, reason=reason)
    order_points_void(order=order)
    _discounts_release(order)
    pickup = getattr(order, "pickup", None)
    if pickup is not None and pickup.closed_at is None:
        pickup_release(pickup=pickup, now=timezone.now())
    elif pickup is None:
        # In the checkout's lock order (R14): stores/stock.py locks the rows by primary key.
        stock_release_lines(
            lines=order.lines.select_related("stockrecord", "product__product_class")
        )


def order_cancel_refund_send(order: OrderType) -> StripeRefund | None:
    """Send the cancellation's refund reserved by order_cancel, if it is still waiting
    (on_commit sends it when order_cancel's transaction commits; a caller whose own
    transaction has ended calls this so it is sent now). Returns the refund recorded."""
    payment = StripePayment.objects.filter(order=order).first()
    if payment is None:
        return None
    key = f"re:{payment.payment_intent_id}:{CANCEL_REFUND_KEY}"
    attempt = payment.refunds.filter(idempotency_key=key, status=StripeRefund.SENDING).first()
    return _refund_send(order, attempt) if attempt is not None else None


def _unpaid_payment_stop(payment: StripePayment) -> None:
    if payment.status == PaymentStatus.SUCCEEDED:
        # Money was received (held for review): staff decide on the refund.
        StripePayment.objects.filter(pk=payment.pk).update(
            needs_review=True,
            review_reason=_("Order cancelled after its payment was received: refund it."),
        )
    elif payment.status != PaymentStatus.CANCELED:
        # The card must not be charged any more. If Stripe cannot be reached now,
        # reconciliation cancels it later.
        pi = payment.payment_intent_id
        transaction.on_commit(lambda: card_payment_abandon(payment_intent_id=pi))


def _refund_reserve(order: OrderType, payment: StripePayment | None) -> StripeRefund | None:
    """Step 1 of the paid order's full refund (shop/payment/refunds.py), under the payment's
    lock: the attempt to send, if any. Its idempotency key is fixed per payment
    (`re:<PaymentIntent>:cancel`), so a retried cancellation never refunds twice."""
    if payment is None or payment.status != PaymentStatus.SUCCEEDED or payment.refundable <= 0:
        return None
    try:
        earlier, attempt, done = refund_reserve(
            payment=payment,
            amount=payment.refundable,
            user=None,
            reason=_("Order %(number)s cancelled") % {"number": order.number},
            token=CANCEL_REFUND_KEY,
        )
    except RefundRefused as exc:
        _refund_problem(order, payment, exc.message)
        return None
    if done is not None:
        _refunded_note(order, done)
    return earlier or attempt


def _refund_send(order: OrderType, attempt: StripeRefund) -> StripeRefund | None:
    """Steps 2 and 3, with no row locked: the refund asked of Stripe and recorded. A
    refund Stripe refuses or does not answer leaves the order cancelled and its payment
    in front of staff (*Card payments to review*); a lost answer is completed by
    reconciliation."""
    current = StripeRefund.objects.filter(pk=attempt.pk).first()
    if current is None or current.status not in (StripeRefund.SENDING, StripeRefund.REQUESTED):
        return None  # already sent (on_commit, then the caller)
    earlier = not (current.idempotency_key or "").endswith(f":{CANCEL_REFUND_KEY}")
    try:
        if earlier:
            result = refund_attempt_complete(current)
        else:
            result = refund_finish(current, replay=False)
    except RefundRefused as exc:
        _refund_problem(order, current.payment, exc.message)
        return None
    if result.completed_earlier:
        _refund_problem(
            order, current.payment, _("an earlier unconfirmed refund was completed instead")
        )
        return result.refund
    _refunded_note(order, result.refund)
    return result.refund


def _refund_problem(order: OrderType, payment: StripePayment, problem: str) -> None:
    StripePayment.objects.filter(pk=payment.pk).update(
        needs_review=True,
        review_reason=(
            _("Order cancelled, but not refunded in full (%(problem)s): refund it.")
            % {"problem": problem}
        )[:500],
    )
    order.notes.create(
        note_type=OrderNote.SYSTEM,
        message=_("Cancelled; the card refund needs staff: %(problem)s") % {"problem": problem},
    )


def _refunded_note(order: OrderType, refund: StripeRefund) -> None:
    order.notes.create(
        note_type=OrderNote.SYSTEM,
        message=_("Cancelled; %(amount)s refunded to the card.")
        % {"amount": money_display(refund.amount, refund.payment.currency)},
    )


def _discounts_release(order: OrderType) -> None:
    """The order's vouchers and offers count as unused again: a single-use voucher (a
    loyalty reward, say) is not lost with an unpaid order, and offer caps are not eaten."""
    for application in VoucherApplication.objects.filter(order=order):
        Voucher.objects.filter(pk=application.voucher_id, num_orders__gt=0).update(
            num_orders=F("num_orders") - 1
        )
        application.delete()
    for discount in order.discounts.all():
        ConditionalOffer.objects.filter(pk=discount.offer_id).update(
            num_applications=Greatest(F("num_applications") - (discount.frequency or 0), 0),
            num_orders=Greatest(F("num_orders") - 1, 0),
            total_discount=F("total_discount") - discount.amount,
        )
        # The cached offers carry the counters their caps are checked against.
        offers_version_bump()
        if discount.voucher_id:
            Voucher.objects.filter(pk=discount.voucher_id).update(
                total_discount=F("total_discount") - discount.amount
            )
