"""Local inventory feeds: per store, what it sells, at what price, how many are free now.

README "Open data for local search". The feeds are made by the Celery beat task
`stores.tasks.inventory_feeds_refresh` (every 15 minutes) from three queries for all
stores (bench/README.md "inventory_feeds.py"), and kept in the cache (no expiry) with
their ETag and Last-Modified; the views only read them. A feed missing from the cache
(first request, cache emptied or Redis away) is made for that one store on the request.
Public data only: title, GTIN, shelf price, free units, pickup; never partner SKUs, raw
stock or allocation counts.

A row's `updated_at` is when one of its values was last seen to change by a run (a new
row: that run's time); a run that changes nothing keeps the feed's body, ETag and
Last-Modified, so conditional GETs keep answering 304.
"""

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from .models import Store
from .presenters import DATA_LICENCE, absolute_url, gtin_of
from .selectors import inventory_records, products_by_id

CSV_COLUMNS = [
    "product_id",
    "gtin",
    "title",
    "url",
    "price",
    "currency",
    "quantity",
    "pickup",
    "updated_at",
]
_KEY = "stores:inventory-feed:{slug}"


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str
    last_modified: dt.datetime


def _product_columns(product: Any, seen: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """A product's columns, worked out once per run however many stores sell it."""
    if product.pk not in seen:
        seen[product.pk] = {
            "product_id": product.pk,
            "gtin": gtin_of(product.upc or ""),
            "title": product.get_title(),
            "url": absolute_url(product.get_absolute_url()),
        }
    return seen[product.pk]


def _row(record: dict[str, Any], store: Store, product: Any, seen: dict) -> dict[str, Any]:
    # Oscar's net stock level: no count is no stock, nothing allocated is 0.
    quantity = max((record["num_in_stock"] or 0) - (record["num_allocated"] or 0), 0)
    return {
        **_product_columns(product, seen),
        "price": f"{record['price']:.2f}",
        "currency": record["price_currency"],
        "quantity": quantity,
        "pickup": bool(store.pickup_enabled and quantity > 0),
    }


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _csv(items: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in items:
        writer.writerow({**item, "pickup": "true" if item["pickup"] else "false"})
    return out.getvalue().encode()


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _build(
    store: Store,
    records: list[dict[str, Any]],
    *,
    now: dt.datetime,
    previous: dict | None,
    products: dict[int, Any],
    seen: dict[int, dict[str, Any]],
):
    before = {item["product_id"]: item for item in (previous or {}).get("items", [])}
    items = []
    for record in records:
        row = _row(record, store, products[record["product_id"]], seen)
        old = before.get(row["product_id"])
        same = old is not None and {k: v for k, v in old.items() if k != "updated_at"} == row
        items.append(
            {**row, "updated_at": old["updated_at"] if old is not None and same else _iso(now)}
        )
    header = {"slug": store.slug, "name": store.name, "url": absolute_url(store.get_absolute_url())}
    if previous and previous["items"] == items and previous["store"] == header:
        return previous
    return {"store": header, "items": items, "updated_at": _iso(now)}


def _save(store: Store, state: dict) -> dict:
    body_json = json.dumps(
        {
            "store": state["store"],
            "license": DATA_LICENCE,
            "updated_at": state["updated_at"],
            "columns": CSV_COLUMNS,
            "items": state["items"],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    body_csv = _csv(state["items"])
    saved = {
        **state,
        "json": body_json,
        "csv": body_csv,
        "etag_json": _etag(body_json),
        "etag_csv": _etag(body_csv),
    }
    cache.set(_KEY.format(slug=store.slug), saved, timeout=None)
    return saved


def _refresh(
    stores: list[Store], records: list[dict[str, Any]], *, now: dt.datetime
) -> dict[str, tuple[dict, bool]]:
    """Each store's feed, and whether this run changed it."""
    by_store: dict[int, list[dict[str, Any]]] = {s.pk: [] for s in stores}
    for record in records:
        by_store[record["store_id"]].append(record)
    products = products_by_id(ids={r["product_id"] for r in records}) if records else {}
    previous = cache.get_many([_KEY.format(slug=s.slug) for s in stores])
    saved: dict[str, Any] = {}
    seen: dict[int, dict[str, Any]] = {}
    # Titles and product URLs in the shop's default language (LANGUAGE_CODE).
    with translation.override(settings.LANGUAGE_CODE):
        for store in stores:
            old = previous.get(_KEY.format(slug=store.slug))
            state = _build(
                store, by_store[store.pk], now=now, previous=old, products=products, seen=seen
            )
            saved[store.slug] = (old, False) if state is old else (_save(store, state), True)
    return saved


def inventory_feeds_refresh(*, now: dt.datetime) -> dict[str, int]:
    """Make every active store's feed again: three queries in all (the stores, every stock
    record, the products they are for)."""
    stores = list(Store.objects.active().order_by("slug"))
    saved = _refresh(stores, inventory_records(), now=now)
    return {"stores": len(stores), "changed": sum(changed for _, changed in saved.values())}


def inventory_feed(*, store: Store, fmt: str, now: dt.datetime) -> Feed:
    """The store's last made feed as CSV or JSON (made now if the cache has none)."""
    state = cache.get(_KEY.format(slug=store.slug))
    if state is None:
        state = _refresh([store], inventory_records(store_ids=[store.pk]), now=now)[store.slug][0]
    return Feed(
        body=state[fmt],
        etag=state[f"etag_{fmt}"],
        last_modified=dt.datetime.fromisoformat(state["updated_at"]),
    )


def inventory_updated_at(*, stores: list[Store]) -> dict[str, str | None]:
    """When each store's feed last changed (None: not made yet), for the index."""
    found = cache.get_many([_KEY.format(slug=s.slug) for s in stores])
    return {s.slug: (found.get(_KEY.format(slug=s.slug)) or {}).get("updated_at") for s in stores}
