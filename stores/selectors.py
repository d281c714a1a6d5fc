"""Reads about stores: distance, opening hours, pickup slots.

Opening hours are wall-clock periods in the store's time zone. A period that
closes at or before it opens ends on the next day (overnight). An exceptional
day replaces the weekly periods that *start* on that date (no periods: closed);
an overnight period started the evening before still runs into it.

Wall-clock times are turned into instants with `zoneinfo` (fold=0): on the
spring-forward day a time in the missing hour maps to the instant one hour
later, and on the fall-back day the repeated hour is taken at its first
occurrence, so a period's real length is whatever the clock change makes it.
"""

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from django.conf import settings
from django.db import connection
from django.db.models import (
    F,
    Prefetch,
    QuerySet,
    prefetch_related_objects,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from .constants import AT_PICKUP_SOURCE_TYPE, PICKUP_SHIPPING_CODE, POINTS_SOURCE_TYPE
from .models import ExceptionalDay, OpeningPeriod, Pickup, PickupSlot, Store

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.contrib.sessions.backends.base import SessionBase
    from oscar.apps.basket.models import Basket, Line
    from oscar.apps.catalogue.models import Product

    # A basket, its lines, or (product id, quantity) pairs.
    BasketOrLines: TypeAlias = Basket | Iterable[Line | tuple[int, int]]

EARTH_RADIUS_KM = 6371.0088
# Where the shopper's chosen store id is kept in the session.
SESSION_STORE_KEY = "stores:store_id"
KM_PER_DEGREE_LAT = 111.32


# --- Distance ----------------------------------------------------------------------------


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _box(lat: float, lng: float, radius_km: float) -> dict[str, float]:
    dlat = radius_km / KM_PER_DEGREE_LAT
    cos_lat = math.cos(math.radians(lat))
    # Near the poles (or for a huge radius) the longitude span covers everything.
    dlng = 180.0 if cos_lat < 1e-6 else radius_km / (KM_PER_DEGREE_LAT * cos_lat)
    if dlng >= 180.0:
        min_lng, max_lng = -180.0, 180.0
    else:
        min_lng, max_lng = lng - dlng, lng + dlng
    return {
        "min_lat": max(-90.0, lat - dlat),
        "max_lat": min(90.0, lat + dlat),
        "min_lng": min_lng,
        "max_lng": max_lng,
    }


@dataclass(frozen=True)
class NearbyStore:
    store: Store
    distance_km: float
    # Units available to sell at this store (None when no product was asked about).
    stock: int | None


# A point as a cube (contrib's `cube` extension) on the unit sphere: the straight-line gap
# between two of them grows with their great-circle distance, so ordering by it (`<->`, a
# GiST index's nearest-neighbour search) is ordering by distance. The same expression as
# the index of migration stores 0002_store_sphere_knn, or PostgreSQL would not use it.
SPHERE_INDEX = "store_sphere_knn"
SPHERE_SQL = (
    "cube(ARRAY[cos(radians({t}.latitude)) * cos(radians({t}.longitude)), "
    "cos(radians({t}.latitude)) * sin(radians({t}.longitude)), sin(radians({t}.latitude))])"
)
_sphere_index_ready: dict[tuple[str, str], bool] = {}


def sphere_index_ready() -> bool:
    """Whether this database has the sphere index (PostgreSQL where migration 0002 could
    create the `cube` extension); asked once per process and database."""
    if connection.vendor != "postgresql":
        return False
    key = (connection.alias, str(connection.settings_dict["NAME"]))
    if key not in _sphere_index_ready:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [SPHERE_INDEX])
            _sphere_index_ready[key] = cursor.fetchone() is not None
    return _sphere_index_ready[key]


def stores_nearest_by_index(*, lat: float, lng: float, limit: int) -> list[NearbyStore]:
    """The `limit` nearest active stores, nearest first then by id, on the sphere index.

    PostgreSQL walks the index only for an ORDER BY on the gap alone (not gap, id), so one
    more row than asked tells whether stores tie with the last one kept (the very same
    spot); if they do, more rows are read until the gap grows, and ties go by id here.
    """
    phi, lmb = math.radians(lat), math.radians(lng)
    point = [math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi)]
    table = Store._meta.db_table
    # Raw SQL: building the same query through the ORM cost more than the query itself
    # (bench/README.md "knn.py"). Only the table's name goes into the text. WHERE is_active
    # is StoreQuerySet.active().
    nearest = (
        f"SELECT *, {SPHERE_SQL.format(t=table)} <-> cube(ARRAY[%s, %s, %s]::float8[]) "  # noqa: S608
        f"AS sphere_gap FROM {table} WHERE is_active ORDER BY sphere_gap LIMIT %s"
    )
    wanted = limit + 1
    while True:
        rows: list[Any] = list(Store.objects.raw(nearest, [*point, wanted]))  # + sphere_gap
        if len(rows) < wanted or rows[limit - 1].sphere_gap < rows[-1].sphere_gap:
            break
        wanted *= 2
    if not rows:
        return []
    kept = [
        store for store in rows if store.sphere_gap <= rows[min(limit, len(rows)) - 1].sphere_gap
    ]
    return sorted(
        (
            NearbyStore(
                store=store,
                distance_km=haversine_km(lat, lng, store.latitude, store.longitude),
                stock=None,
            )
            for store in kept
        ),
        key=lambda item: (item.distance_km, item.store.pk),
    )[:limit]


def stores_near(
    *, lat: float, lng: float, limit: int = 10, product: "Product | None" = None
) -> list[NearbyStore]:
    """The `limit` nearest active stores, nearest first (with stock > 0 of `product` if given).

    On PostgreSQL with the sphere index and no product: one nearest-neighbour query on it
    (stores_nearest_by_index). Otherwise (SQLite, or a product's stores, which a join to its
    stock records may repeat): stores_near_in_boxes.
    """
    if product is None and limit > 0 and sphere_index_ready():
        return stores_nearest_by_index(lat=lat, lng=lng, limit=limit)
    return stores_near_in_boxes(lat=lat, lng=lng, limit=limit, product=product)


def stores_near_in_boxes(
    *, lat: float, lng: float, limit: int = 10, product: "Product | None" = None
) -> list[NearbyStore]:
    """stores_near on any database. A bounding box around the point is searched first and
    widened until it holds `limit` stores within its inscribed circle, so the database only
    reads the neighbourhood (an index on latitude, longitude) and haversine is
    computed for few rows. Boxes crossing the antimeridian are not split: near
    ±180° the search widens to the whole band of longitudes.

    Queries: one when the first box is enough; otherwise one more tells whether
    there are more than `limit` such stores at all, and if not, it has read them
    all (a product in stock in few stores costs two queries, not a widening to
    the whole world); only then does the box widen, one query per step.
    """
    base = Store.objects.active().order_by()  # sorted here by distance, not by name
    if product is not None:
        # A join to the product's stock records rather than two subqueries per store.
        # Oscar only makes (partner, partner_sku) unique, so a store may come back
        # once per record of the product: the rows are deduplicated below.
        base = (
            base.filter(partner__stockrecords__product=product)
            .annotate(
                # Oscar's counts are nullable: nothing allocated (NULL) is 0 (_free_stock).
                stock=Coalesce(F("partner__stockrecords__num_in_stock"), 0)
                - Coalesce(F("partner__stockrecords__num_allocated"), 0)
            )
            .filter(stock__gt=0)
        )

    def nearest_first(rows: list[Store]) -> list[NearbyStore]:
        found = sorted(
            (
                NearbyStore(
                    store=store,
                    distance_km=haversine_km(lat, lng, store.latitude, store.longitude),
                    stock=getattr(store, "stock", None),
                )
                for store in rows
            ),
            key=lambda item: (item.distance_km, item.store.pk),
        )
        unique: dict[int, NearbyStore] = {}
        for item in found:
            unique.setdefault(item.store.pk, item)
        return list(unique.values())

    radius = 5.0
    counted = False
    while True:
        found = nearest_first(list(base.in_box(**_box(lat, lng, radius))))
        within = [item for item in found if item.distance_km <= radius]
        covers_world = radius >= math.pi * EARTH_RADIUS_KM
        if len(within) >= limit or covers_world:
            return (found if covers_world else within)[:limit]
        if not counted:
            counted = True
            # Unordered, so the database stops at limit + 1 rows.
            everywhere = list(base[: limit + 1])
            if len(everywhere) <= limit:
                return nearest_first(everywhere)
        radius *= 4


# --- Opening hours -----------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class DayHours:
    date: dt.date
    periods: list[tuple[dt.time, dt.time]]
    # Set when the day's hours are exceptional (a closure or special hours).
    reason: str | None
    is_exceptional: bool


def _hours_prefetches() -> list[Prefetch]:
    # Past exceptional days never matter again (two days back covers an
    # overnight period and any time zone), so they are not loaded.
    since = timezone.now().date() - dt.timedelta(days=2)
    return [
        Prefetch("opening_periods", queryset=OpeningPeriod.objects.order_by("weekday", "opens")),
        Prefetch(
            "exceptional_days",
            queryset=ExceptionalDay.objects.filter(date__gte=since)
            .prefetch_related("periods")
            .order_by("date"),
        ),
    ]


def with_hours(queryset: "QuerySet[Store] | None" = None) -> "QuerySet[Store]":
    """Stores with their weekly periods and upcoming exceptional days prefetched."""
    qs = Store.objects.all() if queryset is None else queryset
    return qs.prefetch_related(*_hours_prefetches())


def prefetch_hours(stores: list[Store]) -> None:
    """Load the hours of already fetched stores in three queries."""
    prefetch_related_objects(stores, *_hours_prefetches())


def _weekly(store: Store) -> dict[int, list[tuple[dt.time, dt.time]]]:
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {day: [] for day in range(7)}
    for period in store.opening_periods.all():
        weekly[period.weekday].append((period.opens, period.closes))
    for periods in weekly.values():
        periods.sort()
    return weekly


def _exceptions(store: Store) -> dict[dt.date, ExceptionalDay]:
    return {day.date: day for day in store.exceptional_days.all()}


def store_day_hours(*, store: Store, day: dt.date) -> DayHours:
    """The periods starting on `day` (store-local date), exceptional ones if any."""
    exception = _exceptions(store).get(day)
    if exception is not None:
        periods = sorted((p.opens, p.closes) for p in exception.periods.all())
        return DayHours(day, periods, exception.reason, True)
    return DayHours(day, _weekly(store)[day.weekday()], None, False)


def store_week(*, store: Store, start: dt.date, days: int = 7) -> list[DayHours]:
    """Hours for `days` consecutive dates from `start`, exceptions applied."""
    weekly, exceptions = _weekly(store), _exceptions(store)
    result = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        exception = exceptions.get(day)
        if exception is not None:
            periods = sorted((p.opens, p.closes) for p in exception.periods.all())
            result.append(DayHours(day, periods, exception.reason, True))
        else:
            result.append(DayHours(day, weekly[day.weekday()], None, False))
    return result


def _to_instant(day: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    local = dt.datetime.combine(day, time, tzinfo=tz)
    # Round-trip through UTC so a wall time inside the spring-forward gap
    # becomes a real instant (02:30 -> 03:30 CEST on 2026-03-29 in Paris).
    return local.astimezone(dt.UTC)


def store_intervals(*, store: Store, start: dt.date, days: int) -> list[Interval]:
    """Open intervals (UTC) of the periods starting on `days` local dates from `start`, merged.

    Adjacent or overlapping intervals (23:00-00:00 then 00:00-02:00) are merged
    so that "closes at" is the real closing time.
    """
    tz = store.tz
    raw: list[Interval] = []
    for hours in store_week(store=store, start=start, days=days):
        for opens, closes in hours.periods:
            end_day = hours.date if closes > opens else hours.date + dt.timedelta(days=1)
            begin = _to_instant(hours.date, opens, tz)
            end = _to_instant(end_day, closes, tz)
            if end > begin:
                raw.append(Interval(begin, end))
    raw.sort(key=lambda interval: interval.start)
    merged: list[Interval] = []
    for interval in raw:
        if merged and interval.start <= merged[-1].end:
            last = merged.pop()
            merged.append(Interval(last.start, max(last.end, interval.end)))
        else:
            merged.append(interval)
    return merged


def _local_date(store: Store, at: dt.datetime) -> dt.date:
    if at.tzinfo is None:
        raise ValueError("`at` must be an aware datetime")
    return at.astimezone(store.tz).date()


def store_is_open(*, store: Store, at: dt.datetime) -> bool:
    """Whether the store is open at the aware instant `at`."""
    # Start a day early: an overnight period from the evening before may cover `at`.
    start = _local_date(store, at) - dt.timedelta(days=1)
    return any(i.start <= at < i.end for i in store_intervals(store=store, start=start, days=2))


@dataclass(frozen=True)
class OpeningState:
    is_open: bool
    # When it closes (if open) or opens (if closed); None if not within the horizon.
    next_change: dt.datetime | None


def store_next_change(*, store: Store, at: dt.datetime, horizon_days: int = 14) -> OpeningState:
    """Open or closed at `at`, and the next instant that changes, looking `horizon_days` ahead."""
    start = _local_date(store, at) - dt.timedelta(days=1)
    intervals = store_intervals(store=store, start=start, days=horizon_days + 2)
    for interval in intervals:
        if interval.start <= at < interval.end:
            return OpeningState(True, interval.end)
        if interval.start > at:
            return OpeningState(False, interval.start)
    return OpeningState(False, None)


# --- Pickup slots ------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    store_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    remaining: int


def _line_pairs(basket_or_lines: "BasketOrLines") -> list[tuple[int, int]]:
    """(product id, quantity) pairs from a basket, its lines or such pairs."""
    lines = (
        basket_or_lines.all_lines() if hasattr(basket_or_lines, "all_lines") else basket_or_lines
    )
    pairs = []
    for line in lines:
        if isinstance(line, tuple):
            pairs.append((int(line[0]), int(line[1])))
        else:
            pairs.append((line.product_id, line.quantity))
    return pairs


def _wanted(basket_or_lines: "BasketOrLines") -> dict[int, int]:
    wanted: dict[int, int] = {}
    for product_id, quantity in _line_pairs(basket_or_lines):
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    return wanted


def _free_stock() -> CombinedExpression:
    # Oscar's stock counts are nullable: no count is no stock, nothing allocated is 0.
    return Coalesce(F("num_in_stock"), 0) - Coalesce(F("num_allocated"), 0)


def store_can_serve(*, store: Store, basket_or_lines: "BasketOrLines") -> bool:
    """Whether the store has free stock for every line (quantities per product summed)."""
    from django.apps import apps

    StockRecord = apps.get_model("partner", "StockRecord")
    wanted = _wanted(basket_or_lines)
    if not wanted:
        return False
    free = dict(
        StockRecord.objects.filter(partner_id=store.partner_id, product_id__in=wanted)
        .annotate(free=_free_stock())
        .values_list("product_id", "free")
    )
    return all(free.get(pid, 0) >= qty for pid, qty in wanted.items())


def stores_for_basket(
    *, basket_or_lines: "BasketOrLines", lat: float | None = None, lng: float | None = None
) -> list[Store]:
    """Active pickup stores that can serve every line, nearest to (lat, lng) first if given.

    One query for the stock of the basket's products in every store, one for those
    stores and their hours, however many stores there are.
    """
    from django.apps import apps

    StockRecord = apps.get_model("partner", "StockRecord")
    wanted = _wanted(basket_or_lines)
    if not wanted:
        return []
    free: dict[int, dict[int, int]] = {}
    rows = (
        StockRecord.objects.filter(
            product_id__in=wanted,
            partner__store__is_active=True,
            partner__store__pickup_enabled=True,
        )
        .annotate(free=_free_stock())
        .values_list("partner_id", "product_id", "free")
    )
    for partner_id, product_id, units in rows:
        free.setdefault(partner_id, {})[product_id] = units
    partner_ids = [
        partner_id
        for partner_id, units in free.items()
        if all(units.get(pid, 0) >= qty for pid, qty in wanted.items())
    ]
    stores = list(
        with_hours(Store.objects.active().filter(pickup_enabled=True, partner_id__in=partner_ids))
    )
    if lat is not None and lng is not None:
        stores.sort(key=lambda s: haversine_km(lat, lng, s.latitude, s.longitude))
    return stores


def _slot_candidates(
    *, store: Store, now: dt.datetime, days: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """(start, end) of every slot the store's hours allow from `now` + preparation time."""
    earliest = now + dt.timedelta(minutes=store.preparation_minutes)
    length = dt.timedelta(minutes=store.slot_minutes)
    start = _local_date(store, now)
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


# --- My store ----------------------------------------------------------------------------


def chosen_store(
    *, session: "SessionBase | None", user: "User | AnonymousUser | None"
) -> Store | None:
    """The shopper's store: the session's choice, else the signed-in user's saved one.

    Only active stores count; the caller memoises per request.
    """
    store_id = session.get(SESSION_STORE_KEY) if session is not None else None
    if store_id:
        store = Store.objects.active().select_related("partner").filter(pk=store_id).first()
        if store is not None:
            return store
    if user is not None and user.is_authenticated:
        return (
            Store.objects.active().select_related("partner").filter(preferences__user=user).first()
        )
    return None


def home_stores(
    *, user_ids: list[int], fallback_store_ids: dict[int, int] | None = None
) -> dict[int, Store]:
    """{user id: store} for many users at once: the store each saved ("my store"), else the
    one given in `fallback_store_ids` (say, their last pickup store); active stores only,
    hours prefetched (store_today_hours). A constant number of queries, whatever the users.
    """
    saved = dict(
        Store.objects.active()
        .filter(preferences__user_id__in=user_ids)
        .values_list("preferences__user_id", "pk")
    )
    wanted = {**(fallback_store_ids or {}), **saved}
    stores = {
        store.pk: store
        for store in with_hours(Store.objects.active().filter(pk__in=set(wanted.values())))
    }
    return {user_id: stores[pk] for user_id, pk in wanted.items() if pk in stores}


def store_today_hours(*, store: Store, at: dt.datetime) -> DayHours:
    """The store's hours on its local date at `at`."""
    return store_day_hours(store=store, day=_local_date(store, at))


# Where chosen_store_for_request keeps its answer on the request.
_REQUEST_STORE_ATTR = "_stores_chosen_store"


def chosen_store_for_request(request: HttpRequest) -> Store | None:
    """`chosen_store` for the request's session and user, read from the database once per request.

    The pricing strategy and the product page's store block both need it. A
    choice made during the request (`store_choose`) shows from the next request.
    """
    if not hasattr(request, _REQUEST_STORE_ATTR):
        store = chosen_store(
            session=getattr(request, "session", None), user=getattr(request, "user", None)
        )
        setattr(request, _REQUEST_STORE_ATTR, store)
    return getattr(request, _REQUEST_STORE_ATTR)


# --- Store stock (the Stock page) ---------------------------------------------------------


def stock_hq(user: "User | AnonymousUser") -> bool:
    """Whether `user` manages every store's stock: superusers and staff holding
    partner.change_stockrecord (catalogue managers)."""
    return bool(
        getattr(user, "is_superuser", False)
        or (getattr(user, "is_staff", False) and user.has_perm("partner.change_stockrecord"))
    )


def stockrecords_visible_to(*, user: "User | AnonymousUser") -> QuerySet:
    """The stock records `user` may see and change: every one for HQ, those of the
    partners (stores) they belong to for store staff, none for anyone else."""
    from django.apps import apps

    records = apps.get_model("partner", "StockRecord").objects.select_related(
        "product", "partner", "partner__store"
    )
    if stock_hq(user):
        return records
    if user.is_authenticated and user.has_perm("partner.dashboard_access"):
        return records.filter(partner__users=user)
    return records.none()


def stock_prices_settable_by(*, user: "User | AnonymousUser") -> bool:
    """Whether `user` may set prices on the Stock page: HQ, and store staff when the
    shop allows per-store prices (STORES_STAFF_SET_PRICES)."""
    return stock_hq(user) or bool(settings.STORES_STAFF_SET_PRICES)


# --- What an order has paid and what is left -----------------------------------------------

# The Oscar payment source types the checkout records (stores/constants.py): points pay
# part of an order at checkout; "pay at pickup" is settled by staff at hand-over.


@dataclass(frozen=True)
class OrderAmounts:
    """The money of one order as a customer or a member of staff needs it.

    `points_value` is what loyalty points paid, `paid` the money received otherwise
    (card, or at pickup once handed over), `left_to_pay` what is still owed, of which
    `due_at_pickup` is to be collected at the counter (the rest is a card payment
    still awaited online).
    """

    currency: str
    total: Decimal
    # How the checkout described the points ("800 points"), in the shopper's language.
    points_label: str
    points_value: Decimal
    paid: Decimal
    left_to_pay: Decimal
    due_at_pickup: Decimal


def _is_pickup(order: Any) -> bool:
    # Read through the relation, so pickups loaded with select_related("order") (the
    # queue) answer from memory.
    try:
        return order.pickup is not None
    except Pickup.DoesNotExist:
        return False


def order_is_pickup(order: Any) -> bool:
    """Whether `order` is collected in a store (click & collect), for loyalty's bonus.

    Read from the order's shipping method code, so that it answers from the moment the
    order is placed: Oscar sends order_placed before the checkout books the order's
    Pickup, in the same transaction (docs/architecture.md, "Constants"). No query.
    """
    return order.shipping_code == PICKUP_SHIPPING_CODE


def order_amounts(*, order: Any) -> OrderAmounts:
    """Total, points part, money received and what is left to pay, from the order's
    Oscar payment sources (every page, message and hand-over shows these figures).

    Reads `order.sources.all()`, so a list of orders prefetching
    `sources__source_type` costs no query per order. A click & collect order without
    payment sources (the demo seeder's) owes its whole total at pickup.
    """
    zero = Decimal("0.00")
    points_value = paid = awaited_online = zero
    labels = []
    sources = list(order.sources.all())
    for source in sources:
        code = source.source_type.code
        debited = source.amount_debited or zero
        if code == POINTS_SOURCE_TYPE:
            points_value += debited
            if source.label:
                labels.append(source.label)
            continue
        paid += debited
        if code != AT_PICKUP_SOURCE_TYPE:
            awaited_online += max((source.amount_allocated or zero) - debited, zero)
    total = order.total_incl_tax
    left = max(total - points_value - paid, zero)
    if sources:
        due_at_pickup = max(left - awaited_online, zero)
    else:
        due_at_pickup = left if _is_pickup(order) else zero
    return OrderAmounts(
        currency=order.currency,
        total=total,
        points_label=", ".join(labels),
        points_value=points_value,
        paid=paid,
        left_to_pay=left,
        due_at_pickup=due_at_pickup,
    )


# --- For loyalty's attribution report (README.md "Attribution") ----------------------------


def store_names(*, store_ids: set[int]) -> dict[int, str]:
    """{store id: name} for the given stores."""
    return dict(Store.objects.filter(pk__in=store_ids).values_list("pk", "name"))


def saved_store_ids(*, user_ids: QuerySet) -> dict[int, int]:
    """{user id: id of the store they saved as theirs} for the users of a subquery."""
    return dict(
        Store.objects.filter(preferences__user_id__in=user_ids).values_list(
            "preferences__user_id", "pk"
        )
    )


def store_visits(
    *, user_ids: QuerySet, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, dt.datetime, int]]:
    """(user id, moment, store id) of every visit to a store between `start` and `end`: a
    customer saying "I'm here" for a pickup, or collecting it."""
    pickups = Pickup.objects.filter(order__user_id__in=user_ids)
    visits = []
    for field in ("customer_arrived_at", "collected_at"):
        visits += list(
            pickups.filter(**{f"{field}__gte": start, f"{field}__lte": end}).values_list(
                "order__user_id", field, "store_id"
            )
        )
    return visits


# --- Open data for local search (README "Open data for local search") -------------------


def _stockrecords() -> QuerySet:
    from django.apps import apps

    return apps.get_model("partner", "StockRecord").objects


def store_offer_records(*, product: Any) -> list[Any]:
    """The product's stock records at active stores that sell it (a price set), with the
    store: one query whatever the number of stores."""
    return list(
        _stockrecords()
        .filter(product=product, price__isnull=False, partner__store__is_active=True)
        .select_related("partner__store")
        .order_by("partner__store__name", "pk")
    )


def inventory_records(*, store_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Public products' stock records at active stores with a price, as plain rows
    (product_id, store_id, price, price_currency, num_in_stock, num_allocated): one query
    for every store."""
    records = _stockrecords().filter(
        price__isnull=False,
        partner__store__is_active=True,
        product__is_public=True,
    )
    records = records.exclude(product__parent__is_public=False)
    if store_ids is not None:
        records = records.filter(partner__store__in=store_ids)
    return list(
        records.order_by("partner__store__slug", "product_id", "pk").values(
            "product_id",
            "price",
            "price_currency",
            "num_in_stock",
            "num_allocated",
            store_id=F("partner__store__id"),
        )
    )


def products_by_id(*, ids: set[int]) -> dict[int, Any]:
    """Products (with their parents, for a child's title) by id: one query."""
    from django.apps import apps

    Product = apps.get_model("catalogue", "Product")
    return {p.pk: p for p in Product.objects.filter(pk__in=ids).select_related("parent")}
