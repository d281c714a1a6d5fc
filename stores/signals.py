"""Signals stores sends, so other apps can react without stores importing them."""

from django.dispatch import Signal

# Sent by stores.services.pickup_hand_over inside its transaction, once the pickup is
# collected: kwargs pickup, order, collected_at. Loyalty starts the return window here.
pickup_collected = Signal()

# Sent by stores.services.pickup_cancel inside its transaction when a pickup is cancelled
# or left uncollected (stock already released): kwargs pickup, order, status.
pickup_cancelled = Signal()
