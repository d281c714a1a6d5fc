"""Read-only JSON API and open-data feed: no auth, cacheable, 400 with a reason on bad input."""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.apps import apps
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from stores.feeds import CSV_COLUMNS, inventory_feed, inventory_updated_at
from stores.models import Store
from stores.places import place_lookup
from stores.presenters import (
    DATA_LICENCE,
    geojson_feature,
    inventory_links,
    store_data,
    store_detail_data,
)
from stores.selectors import prefetch_hours, stores_near, with_hours

if TYPE_CHECKING:
    from oscar.apps.catalogue.models import Product

MAX_LIMIT = 50
DEFAULT_LIMIT = 10
# Open/closed flips at most at a period boundary, so a minute is stale enough.
LIST_MAX_AGE = 60
FEED_MAX_AGE = 900


class BadRequest(Exception):
    pass


def _error(reason: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def _cached(response: JsonResponse, max_age: int) -> JsonResponse:
    patch_cache_control(response, public=True, max_age=max_age)
    return response


@dataclass(frozen=True)
class NearQuery:
    lat: float
    lng: float
    limit: int
    product: "Product | None"


def _float(params, name: str, low: float, high: float) -> float:
    raw = params.get(name, "")
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadRequest(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def parse_near_query(params) -> NearQuery:
    """lat + lng, or q (a city or postcode), plus optional limit and product id."""
    if params.get("lat") or params.get("lng"):
        if not (params.get("lat") and params.get("lng")):
            raise BadRequest("lat and lng must be given together")
        lat = _float(params, "lat", -90, 90)
        lng = _float(params, "lng", -180, 180)
    elif params.get("q"):
        place = place_lookup(query=params["q"])
        if place is None:
            raise BadRequest(f"unknown place {params['q']!r}; try a city or a postcode")
        lat, lng = place.latitude, place.longitude
    else:
        raise BadRequest("give lat and lng, or q (a city or postcode)")
    raw_limit = params.get("limit", str(DEFAULT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}, got {raw_limit!r}")
    product = None
    if params.get("product"):
        raw = params["product"]
        Product = apps.get_model("catalogue", "Product")
        product = (
            Product.objects.filter(pk=int(raw), is_public=True).first() if raw.isdigit() else None
        )
        if product is None:
            raise BadRequest(f"product must be the id of a public product, got {raw!r}")
    return NearQuery(lat, lng, int(raw_limit), product)


@require_GET
def store_list(request: HttpRequest) -> JsonResponse:
    try:
        query = parse_near_query(request.GET)
    except BadRequest as exc:
        return _error(str(exc))
    near = stores_near(lat=query.lat, lng=query.lng, limit=query.limit, product=query.product)
    prefetch_hours([n.store for n in near])
    now = timezone.now()
    results = []
    for item in near:
        data = store_data(item.store, now=now, request=request)
        data["distance_km"] = round(item.distance_km, 3)
        if query.product is not None:
            data["stock"] = {"product": query.product.pk, "num_available": item.stock}
        results.append(data)
    body = {
        "origin": {"lat": query.lat, "lng": query.lng},
        "count": len(results),
        "stores": results,
    }
    return _cached(JsonResponse(body), LIST_MAX_AGE)


@require_GET
def store_detail(request: HttpRequest, slug: str) -> JsonResponse:
    store = with_hours(Store.objects.active().filter(slug=slug)).first()
    if store is None:
        return _error(f"no active store {slug!r}", status=404)
    data = store_detail_data(store, now=timezone.now(), request=request)
    return _cached(JsonResponse(data), LIST_MAX_AGE)


@require_GET
def store_geojson(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    stores = with_hours(Store.objects.active().order_by("slug"))
    body = {
        "type": "FeatureCollection",
        "license": DATA_LICENCE,
        "generated_at": now.isoformat(),
        "features": [geojson_feature(s, now=now, request=request) for s in stores],
    }
    response = JsonResponse(body, content_type="application/geo+json")
    return _cached(response, FEED_MAX_AGE)


# --- Local inventory feeds (README "Open data for local search") --------------------------

FEED_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _inventory(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    store = Store.objects.active().filter(slug=slug).first()
    if store is None:
        return _error(f"no active store {slug!r}", status=404)
    feed = inventory_feed(store=store, fmt=fmt, now=timezone.now())
    modified = int(feed.last_modified.timestamp())
    response = HttpResponse(feed.body, content_type=FEED_TYPES[fmt])
    response["ETag"] = feed.etag
    response["Last-Modified"] = http_date(modified)
    if fmt == "csv":
        response["Content-Disposition"] = f'inline; filename="{store.slug}-inventory.csv"'
    patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
    conditional = get_conditional_response(
        request, etag=feed.etag, last_modified=modified, response=response
    )
    # Django's stub allows None, which it returns only when no response is given.
    return conditional if conditional is not None else response


@require_GET
def inventory_csv(request: HttpRequest, slug: str) -> HttpResponse:
    return _inventory(request, slug, "csv")


@require_GET
def inventory_json(request: HttpRequest, slug: str) -> HttpResponse:
    return _inventory(request, slug, "json")


@require_GET
def inventory_index(request: HttpRequest) -> JsonResponse:
    stores = list(Store.objects.active().order_by("slug"))
    updated = inventory_updated_at(stores=stores)
    body = {
        "license": DATA_LICENCE,
        "columns": CSV_COLUMNS,
        "stores": [
            {
                "slug": s.slug,
                "name": s.name,
                "updated_at": updated[s.slug],
                **inventory_links(s, request=request),
            }
            for s in stores
        ],
    }
    return _cached(JsonResponse(body), LIST_MAX_AGE)
