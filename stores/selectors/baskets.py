"""Which stores can serve a basket from their free stock."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeAlias

from django.db.models import F
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from ..models import Store
from .distance import haversine_km
from .hours import with_hours

if TYPE_CHECKING:
    from oscar.apps.basket.models import Basket, Line

    # A basket, its lines, or (product id, quantity) pairs.
    BasketOrLines: TypeAlias = Basket | Iterable[Line | tuple[int, int]]


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
