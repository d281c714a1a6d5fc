"""What a cancelled order gives back, and the cancellation of a paid order (refund first).

Kept in one module, moved from the former services.py as it was: the orders package is to take
ownership of cancellation (docs/architecture.md, "Where each write lives").

- ``payment_order_release``: a card payment was cancelled at Stripe; its order, if still
  unpaid, is cancelled.
- ``order_release``: an unpaid order is cancelled (a note, then the status change).
- ``order_released``: run by that status change (receivers.py), whoever makes it: gives
  back points, voucher and offer usage, stock allocation and pickup slot, once.
- ``order_cancelled_paid``: a paid order cancelled by staff is refunded in full, then
  gives back what ``order_released`` gives back.
"""

from __future__ import annotations

from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from loyalty.services.earning import order_points_void
from loyalty.services.redemption import order_redemption_reverse
from shop.constants import AWAITING_PAYMENT, BEING_PROCESSED, CANCELLED, PAID, PAYMENT_REVIEW
from stores.services import pickup_cancel
from stores.stock import stock_release_lines

from .models import PaymentStatus, StripePayment, StripeRefund
from .money import money_display
from .refunds import RefundRefused, refund_create

ConditionalOffer = get_model("offer", "ConditionalOffer")
Order = get_model("order", "Order")
OrderNote = get_model("order", "OrderNote")
Voucher = get_model("voucher", "Voucher")
VoucherApplication = get_model("voucher", "VoucherApplication")


def payment_order_release(payment: StripePayment, *, reason: str) -> None:
    if payment.order is None:
        return
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if order.status in (AWAITING_PAYMENT, PAYMENT_REVIEW):
        order_release(order, reason=reason)


def order_release(order, *, reason: str) -> None:
    """An unpaid order is cancelled; order_released (run by the status change, whoever
    makes it) gives back its stock, pickup slot, vouchers and points once."""
    order.notes.create(note_type=OrderNote.SYSTEM, message=reason)
    order.set_status(CANCELLED)


def order_released(order) -> None:
    """What a cancelled order gives back, once: points, voucher and offer usage, stock
    allocation and pickup slot.

    Runs on the one status change to "Cancelled" (receivers.py): of an unpaid order
    ("Pending payment", "Payment review"), or of a paid one after its refund
    (order_cancelled_paid). Whoever cancels it: this module, or staff on Oscar's order page.

    In the lock order of a checkout (README "Lock order"): the member's row, then the
    vouchers and offers, then stock rows in primary-key order, then the pickup slot, so a
    hold expiring or a cancellation while the same rows are used by a checkout cannot
    deadlock (R14). Loyalty's own receivers then find nothing left to do (each step is
    once).
    """
    reason = _("Order %(number)s cancelled") % {"number": order.number}
    order_redemption_reverse(order_number=order.number, reason=reason)
    order_points_void(order=order)
    _discounts_release(order)
    pickup = getattr(order, "pickup", None)
    if pickup is not None and pickup.closed_at is None:
        pickup_cancel(pickup=pickup, now=timezone.now())
    elif pickup is None:
        # In the checkout's lock order (R14): stores/stock.py locks the rows by primary key.
        stock_release_lines(
            lines=order.lines.select_related("stockrecord", "product__product_class")
        )


# Statuses of an order that is paid (or to be paid at pickup) and not yet complete.
PAID_OPEN = (PAID, BEING_PROCESSED)
CANCEL_REFUND_KEY = "cancel"


def order_cancelled_paid(order) -> StripeRefund | None:
    """A paid order cancelled by staff: its card payment is refunded in full, then it
    gives back what order_released gives back (stock, slot, points, discounts). Returns
    the refund made, if any.

    Called once, on the status change from "Pending" or "Being processed" to "Cancelled"
    (receivers.py), inside that change's transaction. The card payment's row is locked
    before the member's (README "Lock order"): a refund from the dashboard locks them
    in that order too. The refund's idempotency key is fixed per payment
    (`re:<PaymentIntent>:cancel`), so a cancellation retried after a lost answer never
    refunds twice. A refund Stripe refuses, or does not answer, does not stop the
    cancellation: the payment goes to staff (*Card payments to review*), and a refund
    whose answer was lost is completed by reconciliation.

    Pay at pickup: nothing was taken, so nothing is refunded. Points used on the order
    come back in full; points it was to earn are taken back.
    """
    refund = None
    payment = StripePayment.objects.select_for_update().filter(order=order).first()
    if payment is not None and payment.status == PaymentStatus.SUCCEEDED:
        left = payment.refundable
        if left > 0:
            try:
                result = refund_create(
                    payment=payment,
                    amount=left,
                    reason=_("Order %(number)s cancelled") % {"number": order.number},
                    token=CANCEL_REFUND_KEY,
                )
            except RefundRefused as exc:
                problem = exc.message
            else:
                refund = result.refund
                problem = (
                    _("an earlier unconfirmed refund was completed instead")
                    if result.completed_earlier
                    else ""
                )
            if problem:
                StripePayment.objects.filter(pk=payment.pk).update(
                    needs_review=True,
                    review_reason=(
                        _("Order cancelled, but not refunded in full (%(problem)s): refund it.")
                        % {"problem": problem}
                    )[:500],
                )
                order.notes.create(
                    note_type=OrderNote.SYSTEM,
                    message=_("Cancelled; the card refund needs staff: %(problem)s")
                    % {"problem": problem},
                )
            else:
                assert refund is not None  # no problem: refund_create returned it
                order.notes.create(
                    note_type=OrderNote.SYSTEM,
                    message=_("Cancelled; %(amount)s refunded to the card.")
                    % {"amount": money_display(refund.amount, payment.currency)},
                )
    order_released(order)
    return refund


def _discounts_release(order) -> None:
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
        if discount.voucher_id:
            Voucher.objects.filter(pk=discount.voucher_id).update(
                total_discount=F("total_discount") - discount.amount
            )
