"""What the population refers to: a catalogue and stores, created if missing, and pickup
slots booked like checkouts do (never over capacity)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.text import slugify

from loyalty.bulk_rows import rows_insert, rows_update
from loyalty.services.tiers import tier_levels_ensure

from .plan import CATALOGUE, STORE_CITIES, Catalogue, PopulationError, registry_model


def catalogue_ensure(rng: random.Random) -> None:
    category_model = registry_model("catalogue.Category")
    product_model = registry_model("catalogue.Product")
    if product_model.objects.filter(
        categories__isnull=False, stockrecords__price__isnull=False
    ).exists():
        return
    product_class, _created = registry_model("catalogue.ProductClass").objects.get_or_create(
        slug="population", defaults={"name": "Population product", "requires_shipping": True}
    )
    partner, _created = registry_model("partner.Partner").objects.get_or_create(
        code="population-warehouse", defaults={"name": "Online warehouse"}
    )
    stockrecord_model = registry_model("partner.StockRecord")
    for root_name, children in CATALOGUE.items():
        root = category_model.add_root(name=root_name)
        for child_name in children:
            child = root.add_child(name=child_name)
            for number in range(1, 7):
                title = f"{child_name} {number}"
                code = f"POP-{slugify(child_name)}-{number}"
                product = product_model.objects.create(
                    title=title, product_class=product_class, upc=code
                )
                product.categories.add(child)
                stockrecord_model.objects.create(
                    product=product,
                    partner=partner,
                    partner_sku=code,
                    price=Decimal(rng.randint(150, 4500)) / 100,
                    num_in_stock=1000,
                )


def stores_ensure(count: int, rng: random.Random) -> None:
    store_model = registry_model("stores.Store")
    if store_model.objects.exists():
        return
    partner_model = registry_model("partner.Partner")
    for number in range(1, count + 1):
        city, lat, lng = STORE_CITIES[(number - 1) % len(STORE_CITIES)]
        name = f"{city} {number}"
        partner = partner_model.objects.create(name=name, code=f"population-store-{number}")
        store_model.objects.create(
            partner=partner,
            name=name,
            slug=f"population-store-{number}",
            line1=f"{number} rue du Marché",
            postcode="67000",
            city=city,
            latitude=lat + rng.uniform(-0.08, 0.08),
            longitude=lng + rng.uniform(-0.08, 0.08),
        )


def catalogue_read() -> Catalogue:
    stockrecord_model = registry_model("partner.StockRecord")
    category_model = registry_model("catalogue.Category")
    by_product: dict[int, tuple] = {}
    for stock in (
        stockrecord_model.objects.filter(price__isnull=False, product__is_public=True)
        .order_by("product_id", "pk")
        .values_list(
            "product_id",
            "price",
            "price_currency",
            "pk",
            "partner_id",
            "partner__name",
            "partner_sku",
            "product__title",
            "product__upc",
        )
    ):
        by_product.setdefault(stock[0], stock)
    products_by_category: dict[int, list[tuple]] = {}
    # A child product is in its parent's categories (Oscar); it is sold, the parent is not.
    parents = dict(
        registry_model("catalogue.Product")
        .objects.filter(pk__in=list(by_product), parent__isnull=False)
        .values_list("pk", "parent_id")
    )
    links = registry_model("catalogue.ProductCategory").objects.values_list(
        "product_id", "category_id"
    )
    in_category: dict[int, list[int]] = {}
    for product_id, category_id in links:
        in_category.setdefault(product_id, []).append(category_id)
    for product_id, stock in sorted(by_product.items()):
        for category_id in in_category.get(parents.get(product_id, product_id), []):
            products_by_category.setdefault(category_id, []).append(stock)
    if not products_by_category:
        raise PopulationError("the catalogue has no product with a category and a price")
    known = set(category_model.objects.values_list("pk", flat=True))
    stores = list(
        registry_model("stores.Store")
        .objects.filter(is_active=True)
        .order_by("pk")
        .values_list("pk", "partner_id", "latitude", "longitude", "slot_capacity", "slot_minutes")
    )
    if not stores:
        raise PopulationError("there is no active store")
    return Catalogue(
        products_by_category={k: v for k, v in products_by_category.items() if k in known},
        categories=sorted(k for k in products_by_category if k in known),
        stores=stores,
        site_id=settings.SITE_ID,
        tier_levels=list(tier_levels_ensure().values()),
    )


class SlotBook:
    """Pickup slots of the stores, loaded once; new ones are written with each batch."""

    def __init__(self, catalogue: Catalogue):
        self.slot_model = registry_model("stores.PickupSlot")
        self.capacity = {store[0]: max(store[4], 1) for store in catalogue.stores}
        self.minutes = {store[0]: max(store[5], 5) for store in catalogue.stores}
        # stores.PickupSlot instances, typed Any: loyalty reaches stores' models only through
        # the app registry (its imports of stores are the selectors and signals).
        self.slots: dict[tuple[int, datetime], Any] = {
            (slot.store_id, slot.starts_at): slot for slot in self.slot_model.objects.all()
        }
        self.new: list = []
        self.touched: dict[int, Any] = {}

    def book(self, store_id: int, wanted: datetime) -> Any:
        """A slot of the store from `wanted` on (the next one with room)."""
        minutes = self.minutes[store_id]
        start = wanted.replace(minute=(wanted.minute // minutes) * minutes, second=0, microsecond=0)
        while True:
            slot = self.slots.get((store_id, start))
            if slot is None:
                slot = self.slot_model(
                    store_id=store_id,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=minutes),
                    capacity=self.capacity[store_id],
                    booked=0,
                )
                self.slots[(store_id, start)] = slot
                self.new.append(slot)
            if slot.booked < slot.capacity:
                slot.booked += 1
                if slot.pk is not None:
                    self.touched[slot.pk] = slot
                return slot
            start += timedelta(minutes=minutes)

    def flush(self) -> None:
        rows_insert(self.slot_model, self.new)
        rows_update(self.slot_model, list(self.touched.values()), ["booked"])
        self.new, self.touched = [], {}

    def forget(self) -> None:
        """After a failed batch: reload, so the next run starts from the database."""
        self.slots = {(s.store_id, s.starts_at): s for s in self.slot_model.objects.all()}
        self.new, self.touched = [], {}
