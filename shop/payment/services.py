"""Card payments: what happens to an order when its PaymentIntent moves.

The flow (docs in README "Payments"):

1. Checkout's handle_payment creates the PaymentIntent (``card_payment_start``, with a
   deterministic idempotency key) and the order is placed in "Pending payment" with its
   stock, pickup slot and points held; ``card_payment_record`` stores the PaymentIntent
   in the order's transaction. The card is charged afterwards, by Stripe.js on the pay page.
2. Whoever learns first that the PaymentIntent succeeded -- the browser coming back, the
   webhook, or the reconciliation job -- calls ``payment_apply``. It locks the payment
   row, moves its status forward only (R3) and settles the order once: amount and
   currency must match (R8) or the order is held for review; a paid order goes to
   "Pending", gets its payment event and its confirmation message.
3. A cancelled PaymentIntent releases what the order held (``order_release``). A declined
   attempt does not: the shopper may try another card until the hold expires
   (PAYMENT_HOLD_MINUTES), when ``payments_reconcile`` cancels it at Stripe and releases.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.sites.models import Site
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from oscar.core.loading import get_class, get_model

from loyalty.services.earning import order_points_refund, order_points_void
from loyalty.services.redemption import order_redemption_refund, order_redemption_reverse
from shop.constants import AWAITING_PAYMENT, BEING_PROCESSED, CANCELLED, PAID, PAYMENT_REVIEW
from stores.services import pickup_cancel

from . import gateway
from .constants import PAID_EVENT, REFUND_FAILED_EVENT, REFUNDED_EVENT
from .messages import payment_expired_notify
from .models import PaymentStatus, StripeEvent, StripePayment, StripeRefund
from .money import AmountError, from_minor, money_display, quantize, to_minor

logger = logging.getLogger(__name__)

ConditionalOffer = get_model("offer", "ConditionalOffer")
Order = get_model("order", "Order")
Voucher = get_model("voucher", "Voucher")
VoucherApplication = get_model("voucher", "VoucherApplication")
PaymentEventType = get_model("order", "PaymentEventType")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")


# R3: a status never goes back. Webhook events arrive in any order, so an event can only
# raise the rank; a fresh read from Stripe (authoritative) may also move a payment that is
# not final back, e.g. "processing" to "requires_payment_method" when a debit failed.
RANK = {
    PaymentStatus.REQUIRES_PAYMENT_METHOD: 0,
    PaymentStatus.REQUIRES_CONFIRMATION: 1,
    PaymentStatus.REQUIRES_ACTION: 1,
    PaymentStatus.PROCESSING: 2,
    PaymentStatus.REQUIRES_CAPTURE: 3,
    PaymentStatus.SUCCEEDED: 4,
    PaymentStatus.CANCELED: 4,
}
FINAL = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED})


class RefundRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- Starting a card payment (called from checkout's handle_payment) ----------------------


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


def card_payment_record(*, order, payment_intent: dict) -> StripePayment:
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


# --- Applying what Stripe says ------------------------------------------------------------


def _moves_forward(current: str, new: str, *, authoritative: bool) -> bool:
    if current == new or current in FINAL:
        return False
    if authoritative:
        return True
    return RANK.get(new, -1) > RANK.get(current, -1)


@transaction.atomic
def payment_apply(*, payment_intent: dict, authoritative: bool = False) -> StripePayment | None:
    """Bring our payment and its order in line with `payment_intent` (Stripe's JSON).

    `authoritative` is for a PaymentIntent just read from Stripe; webhook event payloads
    may be stale and only move the status forward. Idempotent and safe under concurrency:
    the payment row is locked, and the order is settled or released once; the payment
    returned has `transitioned` True for the one call that moved it.
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
    payment.transitioned = _moves_forward(payment.status, new, authoritative=authoritative)
    if payment.transitioned:
        payment.status = new
        if new == PaymentStatus.SUCCEEDED:
            _settle(payment, payment_intent)
        elif new == PaymentStatus.CANCELED:
            payment.save()  # before the order's receivers look at it
            _release(payment, reason=_("The card payment was cancelled."))
    payment.save()
    return payment


def payment_refresh(payment: StripePayment) -> StripePayment:
    """Read the PaymentIntent from Stripe and apply it (raises GatewayError)."""
    intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
    return payment_apply(payment_intent=intent, authoritative=True) or payment


def payment_cancel(payment: StripePayment, *, reason: str = "abandoned") -> StripePayment:
    """Cancel at Stripe, then release the order; if it was paid meanwhile, settle it."""
    try:
        intent = gateway.payment_intent_cancel(payment.payment_intent_id, reason=reason)
    except gateway.GatewayError as exc:
        if exc.transient:
            raise
        # Already succeeded or cancelled at Stripe: apply what it is now.
        intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
    return payment_apply(payment_intent=intent, authoritative=True) or payment


def _flag(payment: StripePayment, reason: str) -> None:
    payment.needs_review = True
    payment.review_reason = reason[:500]
    logger.error("Payment %s needs review: %s", payment.payment_intent_id, reason)


def _settle(payment: StripePayment, intent: dict) -> None:
    currency = intent["currency"].upper()
    received = from_minor(intent.get("amount_received") or 0, currency)
    payment.amount_received = received
    order = payment.order
    if order is None:
        _flag(payment, _("Charged at Stripe but no order exists: refund it or contact the payer."))
        return
    order = Order.objects.select_for_update().get(pk=order.pk)
    if currency != payment.currency or received != payment.amount:
        # R8: never confirm an order for a different amount than it costs.
        _flag(
            payment,
            _("Received %(got)s %(cur)s for an order of %(want)s %(ocur)s.")
            % {"got": received, "cur": currency, "want": payment.amount, "ocur": payment.currency},
        )
        if order.status == AWAITING_PAYMENT:
            order.set_status(PAYMENT_REVIEW)
        return
    if order.status != AWAITING_PAYMENT:
        _flag(
            payment,
            _("Paid while the order was '%(status)s': re-instate the order or refund.")
            % {"status": order.status},
        )
        return
    source = order.sources.filter(reference=payment.payment_intent_id).first()
    if source is not None:
        source.debit(received, reference=payment.payment_intent_id, status="succeeded")
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


def _release(payment: StripePayment, *, reason: str) -> None:
    if payment.order is None:
        return
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if order.status in (AWAITING_PAYMENT, PAYMENT_REVIEW):
        order_release(order, reason=reason)


def order_release(order, *, reason: str) -> None:
    """An unpaid order is cancelled; order_released (run by the status change, whoever
    makes it) gives back its stock, pickup slot, vouchers and points once."""
    order.notes.create(note_type="System", message=reason)
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
        lines = sorted(
            (line for line in order.lines.select_related("stockrecord") if line.stockrecord_id),
            key=lambda line: line.stockrecord_id,  # the checkout's lock order (R14)
        )
        for line in lines:
            line.stockrecord.cancel_allocation(line.quantity)


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
                refund = refund_create(
                    payment=payment,
                    amount=left,
                    reason=_("Order %(number)s cancelled") % {"number": order.number},
                    token=CANCEL_REFUND_KEY,
                )
            except RefundRefused as exc:
                problem = exc.message
            else:
                problem = (
                    _("an earlier unconfirmed refund was completed instead")
                    if refund.completed_earlier
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
                    note_type="System",
                    message=_("Cancelled; the card refund needs staff: %(problem)s")
                    % {"problem": problem},
                )
            else:
                order.notes.create(
                    note_type="System",
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


def order_confirmation_send(order) -> None:
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


# --- Webhooks ----------------------------------------------------------------------------

PAYMENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.processing",
        "payment_intent.requires_action",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.amount_capturable_updated",
    }
)
REFUND_EVENTS = frozenset(
    {"charge.refunded", "charge.refund.updated", "refund.created", "refund.updated"}
)


def webhook_process(event: dict) -> str:
    """Apply one verified event, once (R2): 'applied', 'duplicate' or 'ignored'."""
    obj = event["data"]["object"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    id=event["id"],
                    type=event["type"],
                    object_id=obj.get("id", ""),
                    created=dt.datetime.fromtimestamp(event["created"], tz=dt.UTC),
                )
        except IntegrityError:
            return "duplicate"
        if event["type"] in PAYMENT_EVENTS:
            payment = payment_apply(payment_intent=obj)
        elif event["type"] in REFUND_EVENTS:
            pi_id = obj.get("payment_intent") or ""
            payment = StripePayment.objects.filter(payment_intent_id=pi_id).first()
            if payment is not None:
                refunds_sync(payment)
        else:
            return "ignored"
    return "applied" if payment is not None else "ignored"


# --- Refunds (R10) -----------------------------------------------------------------------


REFUND_DONE = ("succeeded", "pending")
REFUND_UNDONE = ("failed", "canceled")


def _refund_accounting(payment: StripePayment, amount: Decimal, reference: str, status: str):
    """Our side of money going back (`amount` > 0) or a refund failing (`amount` < 0)."""
    payment.amount_refunded += amount
    order = payment.order
    if order is None:
        return
    source = order.sources.filter(reference=payment.payment_intent_id).first()
    if source is not None:
        source.refund(amount, reference=reference, status=status)
    name = REFUNDED_EVENT if amount > 0 else REFUND_FAILED_EVENT
    event_type, _created = PaymentEventType.objects.get_or_create(name=name)
    order.payment_events.create(event_type=event_type, amount=abs(amount), reference=reference)
    # R21: the order's pending points shrink with what was refunded, and points spent on
    # it come back in the same proportion of what the card paid (both cumulative, so a
    # replay or a later refund moves exactly the difference; README "Cancellations and
    # refunds").
    refunded = max(payment.amount_refunded, Decimal(0))
    order_points_refund(order=order, refunded_total=refunded)
    order_redemption_refund(
        order_number=order.number,
        refunded_total=refunded,
        paid_total=payment.amount_received or payment.amount,
    )


def _record_refund(
    payment: StripePayment, refund: dict, *, user=None, reason: str = "", attempt=None
) -> StripeRefund | None:
    """Bring our record of one Stripe refund in line with Stripe, once.

    Returns the row for a refund that went (or is going) through, None otherwise. A refund
    answering one of our unconfirmed attempts (its attempt key in the metadata, or
    `attempt` given) completes that attempt instead of adding a row; a refund that fails
    later (refund.updated: failed/canceled) is taken off again.
    """
    status = refund.get("status")
    amount = from_minor(refund["amount"], payment.currency)
    existing = StripeRefund.objects.filter(refund_id=refund["id"]).first()
    key = (refund.get("metadata") or {}).get("attempt")
    if attempt is None and key:
        attempt = StripeRefund.objects.filter(
            idempotency_key=key, status=StripeRefund.REQUESTED
        ).first()
    if existing is not None:
        if attempt is not None and attempt.pk != existing.pk:
            attempt.delete()  # the webhook recorded it first: one row for one refund
        if status in REFUND_UNDONE and existing.status in REFUND_DONE:
            existing.status = status
            existing.save(update_fields=["status"])
            _refund_accounting(payment, -existing.amount, refund["id"], status)
            return None
        if status in REFUND_DONE and existing.status != status:
            existing.status = status
            existing.save(update_fields=["status"])
        return existing if existing.status in REFUND_DONE else None
    if status not in REFUND_DONE:
        if attempt is not None:
            attempt.refund_id, attempt.status = refund["id"], status
            attempt.save(update_fields=["refund_id", "status"])
        return None
    if attempt is not None:
        attempt.refund_id, attempt.amount, attempt.status = refund["id"], amount, status
        attempt.save(update_fields=["refund_id", "amount", "status"])
        row = attempt
    else:
        row = StripeRefund.objects.create(
            payment=payment,
            refund_id=refund["id"],
            idempotency_key=key or None,  # ours carry it; Stripe dashboard refunds do not
            amount=amount,
            status=status,
            reason=reason[:255],
            created_by=user,
        )
    _refund_accounting(payment, amount, refund["id"], status)
    return row


def _refund_send(payment: StripePayment, *, key: str, minor: int) -> dict:
    return gateway.refund_create(
        payment_intent_id=payment.payment_intent_id,
        amount_minor=minor,
        idempotency_key=key,
        metadata={"order_number": payment.order_number, "attempt": key},
    )


def refund_create(
    *, payment: StripePayment, amount: Decimal, user=None, reason: str = "", token: str = ""
) -> StripeRefund:
    """Refund `amount` of a paid order: never more than received, even concurrently (R10).

    The payment row is locked for the Stripe call, so refunds of one payment run one at a
    time, each with a deterministic key: `token` (one per refund form shown, so a double
    click refunds once) or the refund's sequence number. If Stripe's answer is lost, the
    attempt is kept ("requested"); until it is confirmed -- by asking again (which
    replays it), by the refund webhook or by reconciliation -- no other refund of this
    payment is made, so a lost answer never turns into two refunds. Returns the refund
    recorded; its `completed_earlier` is True when it was that earlier attempt.
    Raises RefundRefused with a message for staff; whatever it recorded stays recorded.
    """
    with transaction.atomic():
        row, error = _refund_locked(
            payment=payment, amount=amount, user=user, reason=reason, token=token
        )
    if error:
        raise RefundRefused(error)
    return row


def _refund_locked(*, payment, amount, user, reason, token) -> tuple[StripeRefund | None, str]:
    payment = StripePayment.objects.select_for_update().get(pk=payment.pk)
    earlier = payment.refunds.filter(status=StripeRefund.REQUESTED).order_by("pk").first()
    if earlier is not None:
        return _refund_replay(payment, earlier)
    if payment.status != PaymentStatus.SUCCEEDED:
        raise RefundRefused(_("Only a paid card payment can be refunded."))
    if amount <= 0:
        raise RefundRefused(_("Enter an amount above zero."))
    try:
        minor = to_minor(amount, payment.currency)
    except AmountError:
        raise RefundRefused(
            _("Enter an amount %(cur)s can be paid in (e.g. %(example)s).")
            % {"cur": payment.currency, "example": quantize(Decimal("12.5"), payment.currency)}
        ) from None
    key = (
        f"re:{payment.payment_intent_id}:{token}"
        if token
        else (f"re:{payment.payment_intent_id}:{payment.refunds.count() + 1}:{minor}")
    )
    done = StripeRefund.objects.filter(idempotency_key=key).first()
    if done is not None:  # the same form submitted twice
        done.completed_earlier = False
        return done, ""
    if amount > payment.refundable:
        raise RefundRefused(
            _("At most %(left)s can still be refunded.")
            % {"left": money_display(payment.refundable, payment.currency)}
        )
    try:
        refund = _refund_send(payment, key=key, minor=minor)
    except gateway.GatewayError as exc:
        if not exc.transient:
            raise RefundRefused(exc.message) from exc
        # Stripe may have made it: keep the attempt (committed with this transaction).
        StripeRefund.objects.create(
            payment=payment,
            idempotency_key=key,
            amount=amount,
            status=StripeRefund.REQUESTED,
            reason=reason[:255],
            created_by=user,
        )
        return None, _(
            "Stripe did not answer, so the refund of %(amount)s is not "
            "confirmed. It is checked automatically within minutes; asking again "
            "completes that same refund, never a second one."
        ) % {"amount": money_display(amount, payment.currency)}
    row = _record_refund(payment, refund, user=user, reason=reason)
    payment.save()
    if row is None:
        return None, _("Stripe did not complete the refund (%(status)s).") % {
            "status": refund.get("status")
        }
    row.completed_earlier = False
    return row, ""


def _refund_replay(payment, earlier) -> tuple[StripeRefund | None, str]:
    """Finish the refund asked for before whose answer was lost (Stripe replays it)."""
    try:
        refund = _refund_send(
            payment, key=earlier.idempotency_key, minor=to_minor(earlier.amount, payment.currency)
        )
    except gateway.GatewayError as exc:
        if exc.transient:
            return None, exc.message
        # Stripe refuses it (e.g. refunded meanwhile in Stripe's dashboard): it never
        # happened, so it stops holding back other refunds.
        earlier.status = "failed"
        earlier.save(update_fields=["status"])
        return None, _(
            "The earlier refund of %(amount)s, which Stripe had not confirmed, "
            "was refused by Stripe (%(reason)s); nothing was refunded. Check the total, "
            "then refund again if more is due."
        ) % {"amount": money_display(earlier.amount, payment.currency), "reason": exc.message}
    row = _record_refund(payment, refund, attempt=earlier)
    payment.save()
    if row is None:
        earlier.refresh_from_db()
        return None, _("Stripe did not complete the refund (%(status)s).") % {
            "status": refund.get("status")
        }
    row.completed_earlier = True
    return row, ""


@transaction.atomic
def refunds_sync(payment: StripePayment) -> int:
    """Record refunds made at Stripe (its dashboard, or ours before a timeout); how many."""
    payment = StripePayment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != PaymentStatus.SUCCEEDED:
        # A refund proves the payment succeeded; its own event may not have arrived yet.
        intent = gateway.payment_intent_retrieve(payment.payment_intent_id)
        payment_apply(payment_intent=intent, authoritative=True)
        payment.refresh_from_db()
        if payment.status != PaymentStatus.SUCCEEDED:
            return 0
    known = set(payment.refunds.values_list("refund_id", "status"))
    for refund in sorted(
        gateway.refunds_list(payment_intent_id=payment.payment_intent_id),
        key=lambda r: r["created"],
    ):
        _record_refund(payment, refund, reason=_("Refunded at Stripe"))
    payment.save()
    added = len(set(payment.refunds.values_list("refund_id", "status")) - known)
    return added


# --- Reconciliation (R5) and holds (R15) --------------------------------------------------


def payments_reconcile(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Make our payments and Stripe agree; returns counts per outcome.

    - unfinished payments: read from Stripe and applied; once older than the hold,
      cancelled at Stripe and their order released;
    - orders marked paid whose PaymentIntent did not succeed: flagged to staff;
    - PaymentIntents at Stripe with our order number but no payment here (the order's
      transaction failed after Stripe created them): cancelled, or flagged if charged.
    """
    now = now or timezone.now()
    counts = dict.fromkeys(
        ("refreshed", "released", "flagged", "orphans_cancelled", "refunds_confirmed"), 0
    )
    hold = dt.timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    grace = now - dt.timedelta(minutes=2)  # leave the browser and the webhook a moment
    unfinished = StripePayment.objects.filter(order__isnull=False, created_at__lt=grace).exclude(
        status__in=FINAL
    )
    for payment in unfinished.iterator():
        try:
            payment = payment_refresh(payment)
            counts["refreshed"] += 1
            # A payment already processing (money on its way, e.g. a bank debit) is left
            # to finish: the hold only ends payments nobody completed.
            expired = (
                payment.status not in FINAL | {PaymentStatus.PROCESSING}
                and payment.created_at < now - hold
            )
            if expired and payment_cancel(payment).status == PaymentStatus.CANCELED:
                counts["released"] += 1
                payment_expired_notify(payment.order)
        except gateway.GatewayError as exc:
            logger.warning("Reconcile %s: %s", payment.payment_intent_id, exc)
    # Refunds made or changed at Stripe whose webhook we never got (Stripe's dashboard).
    counts["refunds_synced"] = _refunds_catch_up(since=now - dt.timedelta(days=2))
    # Refunds whose answer was lost: asking again with the same key replays them.
    attempts = StripeRefund.objects.filter(
        status=StripeRefund.REQUESTED, created_at__lt=grace
    ).select_related("payment")
    for attempt in attempts:
        try:
            refund_create(payment=attempt.payment, amount=attempt.amount)
            counts["refunds_confirmed"] += 1
        except RefundRefused as exc:
            logger.warning("Reconcile refund %s: %s", attempt.idempotency_key, exc.message)
    # Paid orders whose PaymentIntent did not succeed.
    wrong = StripePayment.objects.filter(order__isnull=False, needs_review=False).exclude(
        Q(status=PaymentStatus.SUCCEEDED) | Q(order__status__in=(AWAITING_PAYMENT, CANCELLED))
    )
    for payment in wrong:
        with transaction.atomic():
            payment = StripePayment.objects.select_for_update().get(pk=payment.pk)
            _flag(
                payment,
                _("The order is '%(status)s' but its card payment is '%(payment)s'.")
                % {"status": payment.order.status, "payment": payment.get_status_display()},
            )
            payment.save()
            counts["flagged"] += 1
    counts["orphans_cancelled"], flagged = _orphans_resolve(
        since=now - dt.timedelta(days=2), before=grace
    )
    counts["flagged"] += flagged
    return counts


def _refunds_catch_up(*, since: dt.datetime) -> int:
    """Sync the payments that have a refund at Stripe we have not recorded as it is."""
    try:
        refunds = list(gateway.refunds_since(created_gte=int(since.timestamp())))
    except gateway.GatewayError as exc:
        logger.warning("Reconcile: refunds not listed (%s)", exc)
        return 0
    recorded = dict(
        StripeRefund.objects.filter(refund_id__in=[r["id"] for r in refunds]).values_list(
            "refund_id", "status"
        )
    )
    stale = {
        r.get("payment_intent")
        for r in refunds
        if recorded.get(r["id"]) != r["status"]
        and (r["id"] in recorded or r["status"] in REFUND_DONE)
    }
    synced = 0
    for payment in StripePayment.objects.filter(payment_intent_id__in=stale - {None}):
        try:
            synced += refunds_sync(payment)
        except gateway.GatewayError as exc:
            logger.warning("Reconcile refunds of %s: %s", payment.payment_intent_id, exc)
    return synced


def _orphans_resolve(*, since: dt.datetime, before: dt.datetime) -> tuple[int, int]:
    cancelled = flagged = 0
    try:
        intents = list(gateway.payment_intents_list(created_gte=int(since.timestamp())))
    except gateway.GatewayError as exc:
        logger.warning("Reconcile: PaymentIntents not listed (%s)", exc)
        return 0, 0
    known = set(
        StripePayment.objects.filter(
            payment_intent_id__in=[intent["id"] for intent in intents]
        ).values_list("payment_intent_id", flat=True)
    )
    for intent in intents:
        metadata = intent.get("metadata") or {}
        number = metadata.get("order_number")
        if metadata.get("shop") != settings.STRIPE_SHOP_TAG:
            continue  # another shop or environment on the same Stripe account
        if not number or intent["id"] in known or intent["created"] >= before.timestamp():
            # Not ours, known, or so recent that its order may still be committing.
            continue
        if intent["status"] == PaymentStatus.SUCCEEDED:
            currency = intent["currency"].upper()
            payment = StripePayment(
                order=None,
                order_number=number,
                payment_intent_id=intent["id"],
                amount=from_minor(intent["amount"], currency),
                currency=currency,
                status=intent["status"],
                amount_received=from_minor(intent.get("amount_received") or 0, currency),
            )
            _flag(
                payment, _("Charged at Stripe but no order exists: refund it or contact the payer.")
            )
            payment.save()
            flagged += 1
        elif intent["status"] != PaymentStatus.CANCELED:
            card_payment_abandon(payment_intent_id=intent["id"])
            cancelled += 1
    return cancelled, flagged
