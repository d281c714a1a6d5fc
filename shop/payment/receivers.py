"""Pay at pickup is settled when staff hand the order over (stores' pickup_collected)."""

from django.dispatch import receiver
from oscar.core.loading import get_model

from stores.signals import pickup_collected

from .methods import AT_PICKUP

PaymentEventType = get_model("order", "PaymentEventType")


@receiver(pickup_collected, dispatch_uid="payment-pickup-collected")
def _pickup_collected(sender, pickup, order, collected_at, **kwargs):
    # In the handover's transaction: the money taken at the counter is recorded once.
    for source in order.sources.select_for_update().filter(source_type__code=AT_PICKUP.source_code):
        due = source.amount_allocated - source.amount_debited
        if due <= 0:
            continue
        source.debit(due, reference=f"pickup:{pickup.pk}", status="paid at pickup")
        event_type, _created = PaymentEventType.objects.get_or_create(name="Paid at pickup")
        order.payment_events.create(
            event_type=event_type, amount=due, reference=f"pickup:{pickup.pk}"
        )
