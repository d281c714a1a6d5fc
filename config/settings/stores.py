"""Stores (click & collect): slots, pickups and store staff."""

from django.core.exceptions import ImproperlyConfigured

from shop import constants as status

from .core import env

STORES_SLOT_DAYS = env.int("STORES_SLOT_DAYS", default=3)
STORES_PICKUP_REMIND_DAYS = env.int("STORES_PICKUP_REMIND_DAYS", default=2)
STORES_PICKUP_CANCEL_DAYS = env.int("STORES_PICKUP_CANCEL_DAYS", default=5)
# Per-store prices: off, store staff change only quantities; HQ always sets prices.
STORES_STAFF_SET_PRICES = env.bool("STORES_STAFF_SET_PRICES", default=False)
STORES_ARRIVAL_EARLY_MINUTES = env.int("STORES_ARRIVAL_EARLY_MINUTES", default=30)
STORES_STATUS_LINK_DAYS = env.int("STORES_STATUS_LINK_DAYS", default=30)
if STORES_ARRIVAL_EARLY_MINUTES < 0 or STORES_STATUS_LINK_DAYS < 1:
    raise ImproperlyConfigured(
        "STORES_ARRIVAL_EARLY_MINUTES must be 0 or more, STORES_STATUS_LINK_DAYS 1 or more."
    )
# Orders in these statuses are not shown to store staff yet (awaiting card payment).
STORES_HIDDEN_ORDER_STATUSES = (status.AWAITING_PAYMENT, status.PAYMENT_REVIEW)
