"""Payments and the order's life: pay at pickup is settled at handover; an unpaid order
cancelled (by us or by staff) gives everything back; a paid order cancelled by staff is
refunded and gives everything back; a prepaid pickup that is cancelled or left uncollected
from the store's queue is put in front of staff for its refund."""

from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils.translation import gettext as _
from oscar.apps.order.signals import order_status_changed
from oscar.core.loading import get_model

from shop.constants import AWAITING_PAYMENT, CANCELLED, PAYMENT_REVIEW
from stores.signals import pickup_cancelled, pickup_collected

from . import release
from .constants import PAID_AT_PICKUP_EVENT
from .intents import card_payment_abandon
from .methods import AT_PICKUP
from .models import PaymentStatus, StripePayment

PaymentEventType = get_model("order", "PaymentEventType")


@receiver(pickup_collected, dispatch_uid="payment-pickup-collected")
def _pickup_collected(sender, pickup, order, collected_at, **kwargs):
    # In the handover's transaction: the money taken at the counter is recorded once.
    for source in order.sources.select_for_update().filter(source_type__code=AT_PICKUP.source_code):
        due = source.amount_allocated - source.amount_debited
        if due <= 0:
            continue
        source.debit(due, reference=f"pickup:{pickup.pk}", status="paid at pickup")
        event_type, _created = PaymentEventType.objects.get_or_create(name=PAID_AT_PICKUP_EVENT)
        order.payment_events.create(
            event_type=event_type, amount=due, reference=f"pickup:{pickup.pk}"
        )


@receiver(order_status_changed, dispatch_uid="payment-order-cancelled-paid")
def _order_cancelled_paid(sender, order, old_status, new_status, **kwargs):
    # Staff cancel a paid order (Oscar's order page): refund it and give everything back.
    if new_status == CANCELLED and old_status in release.PAID_OPEN:
        release.order_cancelled_paid(order)


@receiver(order_status_changed, dispatch_uid="payment-order-cancelled-unpaid")
def _order_cancelled_unpaid(sender, order, old_status, new_status, **kwargs):
    if new_status != CANCELLED or old_status not in (
        AWAITING_PAYMENT,
        PAYMENT_REVIEW,
    ):
        return
    release.order_released(order)
    payment = StripePayment.objects.filter(order=order).first()
    if payment is None:
        return
    if payment.status == PaymentStatus.SUCCEEDED:
        # Money was received (held for review): staff decide on the refund.
        StripePayment.objects.filter(pk=payment.pk).update(
            needs_review=True,
            review_reason=_("Order cancelled after its payment was received: refund it."),
        )
    elif payment.status != PaymentStatus.CANCELED:
        # Cancelled on Oscar's order page: the card must not be charged any more. If Stripe
        # cannot be reached now, reconciliation cancels it later.
        pi = payment.payment_intent_id
        transaction.on_commit(lambda: card_payment_abandon(payment_intent_id=pi))


@receiver(pickup_cancelled, dispatch_uid="payment-pickup-cancelled")
def _pickup_cancelled(sender, pickup, order, status, **kwargs):
    # A click & collect order paid by card that the customer will never get: staff refund.
    StripePayment.objects.filter(
        order=order, status=PaymentStatus.SUCCEEDED, needs_review=False
    ).exclude(amount_refunded__gte=F("amount_received")).update(
        needs_review=True,
        review_reason=_("Paid by card, but the pickup was %(status)s: refund it.")
        % {"status": status},
    )
