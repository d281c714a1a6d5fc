"""Payments and the order's life: pay at pickup is settled at handover; an unpaid order
cancelled (by us or by staff) gives everything back; a paid order cancelled by staff is
refunded and gives everything back; a prepaid pickup that is cancelled or left uncollected
from the store's queue is put in front of staff for its refund."""

from django.db.models import F
from django.dispatch import receiver
from django.utils.translation import gettext as _
from oscar.apps.order.signals import order_status_changed
from oscar.core.loading import get_model

from shop.constants import CANCELLED
from shop.orders.cancellation import order_cancel
from stores.signals import pickup_cancelled, pickup_collected

from .constants import PAID_AT_PICKUP_EVENT
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


@receiver(order_status_changed, dispatch_uid="order-cancelled")
def _order_cancelled(sender, order, old_status, new_status, **kwargs):
    # Whoever cancels (Oscar's order page, order_release): the work is done once, by
    # order_cancel, in the lock order. A paid card order's refund is sent once the change
    # commits, with no row locked (docs/architecture.md, "Lock order").
    if new_status == CANCELLED:
        order_cancel(order, old_status=old_status)


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
