"""Refunds of card payments (R10): never more than received, even concurrently, and a
refund whose answer from Stripe was lost is completed once, never made twice."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from loyalty.services.earning import order_points_refund
from loyalty.services.redemption import order_redemption_refund

from . import gateway
from .constants import REFUND_FAILED_EVENT, REFUNDED_EVENT
from .models import PaymentStatus, StripePayment, StripeRefund
from .money import AmountError, from_minor, money_display, quantize, to_minor

PaymentEventType = get_model("order", "PaymentEventType")


class RefundRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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


def refund_record(
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
    row = refund_record(payment, refund, user=user, reason=reason)
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
    row = refund_record(payment, refund, attempt=earlier)
    payment.save()
    if row is None:
        earlier.refresh_from_db()
        return None, _("Stripe did not complete the refund (%(status)s).") % {
            "status": refund.get("status")
        }
    row.completed_earlier = True
    return row, ""
