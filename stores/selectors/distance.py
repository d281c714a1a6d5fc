"""Distance: the nearest stores to a point."""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import F
from django.db.models.functions import Coalesce

from ..models import Store

if TYPE_CHECKING:
    from oscar.apps.catalogue.models import Product

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = 111.32


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
# the index of migration stores 0003_store_sphere_knn, or PostgreSQL would not use it.
SPHERE_INDEX = "store_sphere_knn"
SPHERE_SQL = (
    "cube(ARRAY[cos(radians({t}.latitude)) * cos(radians({t}.longitude)), "
    "cos(radians({t}.latitude)) * sin(radians({t}.longitude)), sin(radians({t}.latitude))])"
)
_sphere_index_ready: dict[tuple[str, str], bool] = {}


def sphere_index_ready() -> bool:
    """Whether this database has the sphere index (PostgreSQL where migration 0003 could
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
