"""Refunds of card payments (R10): never more than received, even concurrently, and a
refund whose answer from Stripe was lost is completed once, never made twice.

No row lock is held while Stripe is called (docs/architecture.md, "Lock order"). A refund
is made in three steps:

1. under the payment's row lock, checked and recorded as an attempt (``sending``, with its
   idempotency key; its amount counts against what is left to refund) -- committed;
2. asked of Stripe, with no transaction open;
3. under the row lock again, Stripe's answer recorded (``refund_record``), or the attempt
   kept as ``requested`` when the answer was lost.

A crash between 1 and 3 leaves a ``sending`` attempt: after ``ATTEMPT_LOST_AFTER`` it is
treated like a lost answer, and asking again, the refund webhook or reconciliation
completes it with the same key, so Stripe makes it once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from loyalty.services.earning import order_points_refund
from loyalty.services.redemption import order_redemption_refund

from . import gateway
from .constants import (
    REFUND_CANCELED,
    REFUND_FAILED,
    REFUND_FAILED_EVENT,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    REFUNDED_EVENT,
)
from .models import PaymentStatus, StripePayment, StripeRefund
from .money import AmountError, from_minor, money_display, quantize, to_minor

PaymentEventType = get_model("order", "PaymentEventType")


class RefundRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RefundResult:
    """A refund recorded: `completed_earlier` when it is an earlier attempt whose answer
    had been lost (completed instead of the refund asked for)."""

    refund: StripeRefund
    completed_earlier: bool


REFUND_DONE = (REFUND_SUCCEEDED, REFUND_PENDING)
REFUND_UNDONE = (REFUND_FAILED, REFUND_CANCELED)
# An attempt still "sending" this long after it was recorded lost its answer (a crash
# between asking Stripe and recording the answer): it is completed, never made again.
ATTEMPT_LOST_AFTER = dt.timedelta(minutes=2)
UNCONFIRMED = (StripeRefund.SENDING, StripeRefund.REQUESTED)


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
        attempt = StripeRefund.objects.filter(idempotency_key=key, status__in=UNCONFIRMED).first()
    if existing is not None:
        if attempt is not None and attempt.pk != existing.pk:
            attempt.delete()  # the webhook recorded it first: one row for one refund
        if status in REFUND_UNDONE and existing.status in REFUND_DONE:
            existing.status = status
            existing.save(update_fields=["status"])
            _refund_accounting(payment, -existing.amount, refund["id"], status)
            return None
        # A list read before a newer answer was recorded never takes "succeeded" back.
        if status in REFUND_DONE and existing.status not in (status, REFUND_SUCCEEDED):
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


def _refund_send(payment: StripePayment, attempt: StripeRefund) -> dict:
    """Step 2: ask Stripe (no transaction open, so no row lock held)."""
    assert attempt.idempotency_key
    return gateway.refund_create(
        payment_intent_id=payment.payment_intent_id,
        amount_minor=to_minor(attempt.amount, payment.currency),
        idempotency_key=attempt.idempotency_key,
        metadata={"order_number": payment.order_number, "attempt": attempt.idempotency_key},
    )


def refund_create(
    *, payment: StripePayment, amount: Decimal, user=None, reason: str = "", token: str = ""
) -> RefundResult:
    """Refund `amount` of a paid order: never more than received, even concurrently (R10).

    Each refund has a deterministic key: `token` (one per refund form shown, so a double
    click refunds once) or the refund's sequence number. If Stripe's answer is lost, the
    attempt is kept ("requested"); until it is confirmed -- by asking again (which
    replays it), by the refund webhook or by reconciliation -- no other refund of this
    payment is made, so a lost answer never turns into two refunds. Returns the refund
    recorded; `completed_earlier` is True when it was that earlier attempt.
    Raises RefundRefused with a message for staff; whatever it recorded stays recorded.
    """
    with transaction.atomic():
        earlier, attempt, done = refund_reserve(
            payment=payment, amount=amount, user=user, reason=reason, token=token
        )
    if done is not None:
        return RefundResult(done, completed_earlier=False)
    if earlier is not None:
        return refund_attempt_complete(earlier)
    assert attempt is not None
    return refund_finish(attempt, replay=False)


def refund_attempt_complete(attempt: StripeRefund) -> RefundResult:
    """Ask Stripe again for an attempt whose answer was lost (the same key: Stripe replays
    the refund it made, or makes it now if it never got the request), and record it."""
    current = StripeRefund.objects.get(pk=attempt.pk)
    if current.status in UNCONFIRMED:
        return refund_finish(current, replay=True)
    if current.status in REFUND_DONE:  # confirmed meanwhile (webhook, another request)
        return RefundResult(current, completed_earlier=True)
    raise RefundRefused(
        _("Stripe did not complete the refund (%(status)s).") % {"status": current.status}
    )


def refund_reserve(
    *, payment, amount, user, reason, token
) -> tuple[StripeRefund | None, StripeRefund | None, StripeRefund | None]:
    """Step 1, under the payment's lock, in the caller's transaction: (an earlier attempt
    to complete, the attempt recorded for this refund, the refund already made with this
    key); one is set. The attempt is sent by refund_finish once that transaction commits."""
    payment = StripePayment.objects.select_for_update().get(pk=payment.pk)
    lost = Q(status=StripeRefund.REQUESTED) | Q(
        status=StripeRefund.SENDING, created_at__lt=timezone.now() - ATTEMPT_LOST_AFTER
    )
    earlier = payment.refunds.filter(lost).order_by("pk").first()
    if earlier is not None:
        return earlier, None, None
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
        return None, None, done
    # Attempts on their way to Stripe count as refunded already.
    sending = payment.refunds.filter(status=StripeRefund.SENDING).aggregate(s=Sum("amount"))["s"]
    left = payment.refundable - (sending or 0)
    if amount > left:
        raise RefundRefused(
            _("At most %(left)s can still be refunded.")
            % {"left": money_display(left, payment.currency)}
        )
    attempt = StripeRefund.objects.create(
        payment=payment,
        idempotency_key=key,
        amount=amount,
        status=StripeRefund.SENDING,
        reason=reason[:255],
        created_by=user,
    )
    return None, attempt, None


def refund_finish(attempt: StripeRefund, *, replay: bool) -> RefundResult:
    """Steps 2 and 3 of `attempt` (committed): ask Stripe, then record its answer."""
    payment = attempt.payment
    try:
        refund = _refund_send(payment, attempt)
    except gateway.GatewayError as exc:
        with transaction.atomic():
            message = _refund_unanswered(attempt, exc, replay=replay)
        raise RefundRefused(message) from exc
    with transaction.atomic():
        payment = StripePayment.objects.select_for_update().get(pk=payment.pk)
        current = StripeRefund.objects.filter(pk=attempt.pk).first()
        row = refund_record(payment, refund, attempt=current)
        payment.save()
        if row is None and current is not None and not replay:
            current.delete()  # Stripe did not make it: nothing is recorded
    if row is None:
        raise RefundRefused(
            _("Stripe did not complete the refund (%(status)s).") % {"status": refund.get("status")}
        )
    return RefundResult(row, completed_earlier=replay)


def _refund_unanswered(attempt: StripeRefund, exc: gateway.GatewayError, *, replay: bool) -> str:
    """Step 3 when Stripe gave no refund: what happened to the attempt, for staff."""
    StripePayment.objects.select_for_update().get(pk=attempt.payment_id)
    attempt = StripeRefund.objects.get(pk=attempt.pk)
    if attempt.status not in UNCONFIRMED:
        # Recorded meanwhile from Stripe's side (webhook): nothing more to do here.
        return exc.message
    if exc.transient:
        # Stripe may have made it: the attempt is kept, to be completed, never repeated.
        attempt.status = StripeRefund.REQUESTED
        attempt.save(update_fields=["status"])
        if replay:
            return exc.message
        return _(
            "Stripe did not answer, so the refund of %(amount)s is not "
            "confirmed. It is checked automatically within minutes; asking again "
            "completes that same refund, never a second one."
        ) % {"amount": money_display(attempt.amount, attempt.payment.currency)}
    if not replay:
        attempt.delete()  # refused by Stripe: it never happened, nothing is recorded
        return exc.message
    # Stripe refuses it (e.g. refunded meanwhile in Stripe's dashboard): it never
    # happened, so it stops holding back other refunds.
    attempt.status = REFUND_FAILED
    attempt.save(update_fields=["status"])
    return _(
        "The earlier refund of %(amount)s, which Stripe had not confirmed, "
        "was refused by Stripe (%(reason)s); nothing was refunded. Check the total, "
        "then refund again if more is due."
    ) % {"amount": money_display(attempt.amount, attempt.payment.currency), "reason": exc.message}
