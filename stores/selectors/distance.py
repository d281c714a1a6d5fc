"""Distance: the nearest stores to a point."""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def stores_near(
    *, lat: float, lng: float, limit: int = 10, product: "Product | None" = None
) -> list[NearbyStore]:
    """The `limit` nearest active stores, nearest first (with stock > 0 of `product` if given).

    A bounding box around the point is searched first and doubled until it
    holds `limit` stores within its inscribed circle, so the database only
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
