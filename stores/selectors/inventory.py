"""Open data for local search (README "Open data for local search"): stock records with
their stores and products, for the inventory feeds and product pages."""

from typing import Any

from django.db.models import F, QuerySet


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
