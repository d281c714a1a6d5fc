"""Pickup slots: what a store's hours offer and what is left to book."""

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from ..models import PickupSlot, Store
from .baskets import store_can_serve
from .hours import store_intervals, store_local_date

if TYPE_CHECKING:
    from .baskets import BasketOrLines


@dataclass(frozen=True)
class Slot:
    store_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    remaining: int


def _slot_candidates(
    *, store: Store, now: dt.datetime, days: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """(start, end) of every slot the store's hours allow from `now` + preparation time."""
    earliest = now + dt.timedelta(minutes=store.preparation_minutes)
    length = dt.timedelta(minutes=store.slot_minutes)
    start = store_local_date(store, now)
    intervals = store_intervals(store=store, start=start - dt.timedelta(days=1), days=days + 1)
    candidates: list[tuple[dt.datetime, dt.datetime]] = []
    for interval in intervals:
        begin = interval.start
        while begin + length <= interval.end:
            if begin >= earliest:
                candidates.append((begin, begin + length))
            begin += length
    return candidates


def _slots_left(
    store: Store,
    candidates: list[tuple[dt.datetime, dt.datetime]],
    booked: dict[dt.datetime, int],
) -> list[Slot]:
    slots = []
    for begin, end in candidates:
        remaining = store.slot_capacity - booked.get(begin, 0)
        if remaining > 0:
            slots.append(Slot(store.pk, begin, end, store.slot_capacity, remaining))
    return slots


def slots_available(
    *,
    store: Store,
    basket_or_lines: "BasketOrLines | None",
    now: dt.datetime,
    days: int | None = None,
) -> list[Slot]:
    """Bookable slots with capacity left, from `now` + preparation time, for `days` local dates.

    Slots start at the opening time and follow each other every
    `slot_minutes`; a slot must fit inside one open interval. Empty if the
    store cannot serve the basket (when one is given) or does not offer pickup.
    """
    if not store.pickup_enabled or not store.is_active:
        return []
    if basket_or_lines is not None and not store_can_serve(
        store=store, basket_or_lines=basket_or_lines
    ):
        return []
    candidates = _slot_candidates(store=store, now=now, days=days or settings.STORES_SLOT_DAYS)
    if not candidates:
        return []
    booked = dict(
        PickupSlot.objects.filter(
            store=store, starts_at__gte=candidates[0][0], starts_at__lte=candidates[-1][0]
        ).values_list("starts_at", "booked")
    )
    return _slots_left(store, candidates, booked)


def slot_is_offered(
    *, store: Store, starts_at: dt.datetime, now: dt.datetime, days: int | None = None
) -> bool:
    """Whether the store's hours offer a slot starting at `starts_at`, full or not.

    Tells a slot that filled up since it was shown from one the store never had.
    """
    candidates = _slot_candidates(store=store, now=now, days=days or settings.STORES_SLOT_DAYS)
    return any(begin == starts_at for begin, _end in candidates)


def slots_available_for_stores(
    *, stores: list[Store], now: dt.datetime, days: int | None = None
) -> dict[int, list[Slot]]:
    """`slots_available` (without the basket check) for several stores, by store id.

    One query for the bookings of every store, whatever their number; the stores'
    hours must be prefetched (`with_hours`, as `stores_for_basket` returns them).
    """
    days = days or settings.STORES_SLOT_DAYS
    candidates = {
        store.pk: _slot_candidates(store=store, now=now, days=days)
        if store.pickup_enabled and store.is_active
        else []
        for store in stores
    }
    starts = [begin for found in candidates.values() for begin, _end in found]
    booked: dict[int, dict[dt.datetime, int]] = {store.pk: {} for store in stores}
    if starts:
        rows = PickupSlot.objects.filter(
            store_id__in=list(candidates), starts_at__gte=min(starts), starts_at__lte=max(starts)
        ).values_list("store_id", "starts_at", "booked")
        for store_id, starts_at, count in rows:
            booked[store_id][starts_at] = count
    return {
        store.pk: _slots_left(store, candidates[store.pk], booked[store.pk]) for store in stores
    }
