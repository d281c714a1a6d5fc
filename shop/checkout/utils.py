"""Oscar's checkout session data with what our checkout adds to it, behind public accessors.

Oscar's views load `CheckoutSessionData` with `get_class("checkout.utils", ...)`, so this
module's name is the fork's extension point; the rest of the checkout reads and writes
the session through the typed methods below, never through Oscar's `_get`/`_set`.
"""

import datetime as dt

from oscar.apps.checkout import utils as oscar_utils

PICKUP_NAMESPACE = "pickup"
LOYALTY_NAMESPACE = "loyalty"


class CheckoutSessionData(oscar_utils.CheckoutSessionData):
    """Adds the click & collect choice (store and slot) and the points to spend."""

    # --- Click & collect: the store and the start of the slot chosen -------------------

    def pickup_choose(self, *, store_id: int, starts_at: dt.datetime) -> None:
        self._set(PICKUP_NAMESPACE, "store_id", store_id)
        self._set(PICKUP_NAMESPACE, "starts_at", starts_at.isoformat())

    def pickup_chosen(self) -> tuple[int, dt.datetime] | None:
        """The store id and slot start chosen, or None if either is missing."""
        store_id = self._get(PICKUP_NAMESPACE, "store_id")
        starts_at = self._get(PICKUP_NAMESPACE, "starts_at")
        if not store_id or not starts_at:
            return None
        return int(store_id), dt.datetime.fromisoformat(starts_at)

    def pickup_forget(self) -> None:
        self._flush_namespace(PICKUP_NAMESPACE)

    # --- Loyalty points to spend on the order ------------------------------------------

    def points_choose(self, points: int) -> None:
        self._set(LOYALTY_NAMESPACE, "points", points)

    def points_chosen(self) -> int:
        return int(self._get(LOYALTY_NAMESPACE, "points") or 0)

    def points_forget(self) -> None:
        self._unset(LOYALTY_NAMESPACE, "points")
