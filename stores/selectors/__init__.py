"""Reads about stores, one module per role; every name is importable from here.

- `distance`: the nearest stores to a point;
- `hours`: opening hours, exceptional days, open or closed at an instant;
- `baskets`: which stores can serve a basket from their free stock;
- `slots`: pickup slots offered and left to book;
- `choice`: the shopper's own store (session or profile);
- `staff`: who works in which stores (head office, store staff);
- `stock`: who sees which stock records on the Stock page;
- `orders`: what an order has paid and what is left, click & collect or not;
- `visits`: stores and store visits for loyalty's attribution report;
- `inventory`: stock records for the open data feeds.

`loyalty` imports this package only (docs/architecture.md, "Who may import whom").
"""

from ..constants import PICKUP_SHIPPING_CODE
from ..models import PickupStatus
from .baskets import store_can_serve, stores_for_basket
from .choice import SESSION_STORE_KEY, chosen_store, chosen_store_for_request, home_stores
from .distance import (
    EARTH_RADIUS_KM,
    SPHERE_INDEX,
    SPHERE_SQL,
    NearbyStore,
    haversine_km,
    sphere_index_ready,
    stores_near,
    stores_near_in_boxes,
    stores_nearest_by_index,
)
from .hours import (
    DayHours,
    Interval,
    OpeningState,
    prefetch_hours,
    store_day_hours,
    store_intervals,
    store_is_open,
    store_local_date,
    store_next_change,
    store_today_hours,
    store_week,
    with_hours,
)
from .inventory import inventory_records, products_by_id, store_offer_records
from .orders import OrderAmounts, order_amounts, order_is_pickup
from .slots import Slot, slot_is_offered, slots_available, slots_available_for_stores
from .staff import is_hq, pickups_visible_to, stores_visible_to, works_in_stores
from .stock import stock_hq, stock_prices_settable_by, stockrecords_visible_to
from .visits import saved_store_ids, store_names, store_visits

__all__ = [
    "EARTH_RADIUS_KM",
    "PICKUP_SHIPPING_CODE",
    "SESSION_STORE_KEY",
    "DayHours",
    "Interval",
    "NearbyStore",
    "OpeningState",
    "OrderAmounts",
    "PickupStatus",
    "Slot",
    "chosen_store",
    "chosen_store_for_request",
    "haversine_km",
    "home_stores",
    "inventory_records",
    "is_hq",
    "order_amounts",
    "order_is_pickup",
    "pickups_visible_to",
    "prefetch_hours",
    "products_by_id",
    "saved_store_ids",
    "slot_is_offered",
    "slots_available",
    "slots_available_for_stores",
    "stock_hq",
    "stock_prices_settable_by",
    "stockrecords_visible_to",
    "store_can_serve",
    "store_day_hours",
    "store_intervals",
    "store_is_open",
    "store_local_date",
    "store_names",
    "store_next_change",
    "store_offer_records",
    "store_today_hours",
    "store_visits",
    "store_week",
    "stores_for_basket",
    "stores_near",
    "stores_near_in_boxes",
    "stores_nearest_by_index",
    "sphere_index_ready",
    "SPHERE_INDEX",
    "SPHERE_SQL",
    "stores_visible_to",
    "with_hours",
    "works_in_stores",
]
