"""Reads of recommendations (README.md "Recommendations"): "for you" products of a member,
products bought together with others, and why each was recommended.

Candidates come from the rows the beat job writes (loyalty.services.recommendations), in
its order; the shopper's store decides the final order at each request: products in
stock there first, then those in stock elsewhere (online), then the others. The
candidate lists are cached under the latest run's id, so a new run is seen at once; the
rendered cards are cached per product by shop.catalogue.cards, which retires them when
their stock, prices or product change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from loyalty.models import (
    Member,
    MemberRecommendation,
    ProductPair,
    RecommendationReason,
    RecommendationRun,
)
from loyalty.services.recommendations import RECOMMENDATIONS_VERSION_KEY

FOR_YOU_SHOWN = 8
TOGETHER_SHOWN = 4
TOKEN_PRODUCTS = 3


def _product_model():
    return apps.get_model("catalogue", "Product")


def _cached(key: str, compute) -> list[int]:
    """`compute()` cached under the latest run's version (a cache miss costs the query)."""
    version = cache.get(RECOMMENDATIONS_VERSION_KEY, 0)
    full_key = f"loyalty:recommendations:{version}:{key}"
    found = cache.get(full_key)
    if found is None:
        found = list(compute())
        cache.set(full_key, found, settings.LOYALTY_RECOMMENDATION_CACHE_SECONDS)
    return found


def for_you_ids(*, user: Any) -> list[int]:
    """The signed-in user's recommended product ids, strongest first ([] for a guest)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return _cached(
        f"user:{user.pk}",
        lambda: (
            MemberRecommendation.objects.filter(member__user_id=user.pk)
            .order_by("position")
            .values_list("product_id", flat=True)
        ),
    )


def together_ids(*, product_ids: Iterable[int]) -> list[int]:
    """Products most often bought with any of `product_ids` (those excluded), strongest
    first: the times each was bought with them, summed."""
    wanted = sorted(set(product_ids))
    if not wanted:
        return []
    return _cached(
        "together:" + ",".join(map(str, wanted)),
        lambda: (
            ProductPair.objects.filter(product_id__in=wanted)
            .exclude(other_id__in=wanted)
            .values("other_id")
            .annotate(total=Sum("times"))
            .order_by("-total", "other_id")
            .values_list("other_id", flat=True)[: settings.LOYALTY_RECOMMENDATION_PAIRS]
        ),
    )


def products_for_cards() -> QuerySet:
    """Browsable products with what a product card reads prefetched (Oscar's
    base_queryset, and variants' stock for parents): a fixed number of queries."""
    return (
        _product_model()
        .objects.browsable()
        .base_queryset()
        .prefetch_related("children__stockrecords")
    )


def _stock_at(product: Any, partner_ids: set[int] | None) -> int:
    """Free units of `product` (its variants' for a parent) at these partners (None: any),
    from the prefetched stock records."""
    items = list(product.children.all()) if product.is_parent else [product]
    return sum(
        max(record.net_stock_level or 0, 0)
        for item in items
        for record in item.stockrecords.all()
        if partner_ids is None or record.partner_id in partner_ids
    )


def ids_in_store_order(*, ids: Sequence[int], store: Any, limit: int) -> list[int]:
    """Up to `limit` browsable products of `ids`: in stock at `store` first, then in stock
    anywhere, then the others; in the order of `ids` within each group.

    Two light queries (ids, then stock figures; no product rows, whatever the number of
    ids): the cards themselves come from the cache (shop.catalogue.cards)."""
    if not ids:
        return []
    structures = dict(
        _product_model().objects.browsable().filter(pk__in=ids).values_list("pk", "structure")
    )
    if not structures:
        return []
    parents = {pk for pk, structure in structures.items() if structure == "parent"}
    here: dict[int, int] = {}
    anywhere: dict[int, int] = {}
    records = (
        apps.get_model("partner", "StockRecord")
        .objects.filter(Q(product_id__in=structures) | Q(product__parent_id__in=parents))
        .values_list(
            "product_id", "product__parent_id", "partner_id", "num_in_stock", "num_allocated"
        )
    )
    for product_id, parent_id, partner_id, in_stock, allocated in records:
        # As _stock_at: a parent counts its variants' records, any other product its own.
        owner = parent_id if parent_id in parents else product_id
        if owner not in structures or (owner in parents) != (parent_id in parents):
            continue
        free = max((in_stock - (allocated or 0)) if in_stock is not None else 0, 0)
        anywhere[owner] = anywhere.get(owner, 0) + free
        if store is not None and partner_id == store.partner_id:
            here[owner] = here.get(owner, 0) + free
    rank = {product_id: index for index, product_id in enumerate(ids)}

    def key(product_id: int) -> tuple[int, int]:
        group = 0 if here.get(product_id) else 1 if anywhere.get(product_id) else 2
        return group, rank[product_id]

    return sorted(structures, key=key)[:limit]


# --- Campaign messages -------------------------------------------------------------------


def for_you_by_member(*, member_ids: Sequence[int], stores: dict[int, Any]) -> dict[int, list]:
    """{member id: up to TOKEN_PRODUCTS products}, in stock at the member's store (from
    `stores`, by member id) first, for the `recommended_products` token. Two queries plus
    the products' prefetches, whatever the number of members."""
    rows = MemberRecommendation.objects.filter(member_id__in=member_ids).order_by(
        "member_id", "position"
    )
    by_member: dict[int, list[int]] = {}
    for member_id, product_id in rows.values_list("member_id", "product_id"):
        by_member.setdefault(member_id, []).append(product_id)
    wanted = {product_id for ids in by_member.values() for product_id in ids}
    products = {p.pk: p for p in products_for_cards().filter(pk__in=wanted)} if wanted else {}
    result = {}
    for member_id, ids in by_member.items():
        store = stores.get(member_id)
        here = {store.partner_id} if store is not None else set()
        shown = [products[pk] for pk in ids if pk in products]
        shown.sort(
            key=lambda p: (
                0 if here and _stock_at(p, here) > 0 else 1 if _stock_at(p, None) > 0 else 2
            )
        )
        result[member_id] = shown[:TOKEN_PRODUCTS]
    return result


def product_titles(products: Iterable[Any]) -> str:
    """ "A, B, C": the token's text, in the active language."""
    return ", ".join(product.get_title() for product in products)


# --- Why (the marketers' page) -------------------------------------------------------------


@dataclass(frozen=True)
class Explained:
    position: int
    product: Any
    reason: str
    why: str


def member_recommendations_explained(*, member: Member) -> list[Explained]:
    """The member's recommendations with a sentence saying why each was chosen."""
    rows = (
        MemberRecommendation.objects.filter(member=member)
        .select_related("product", "via_product", "via_category")
        .order_by("position")
    )
    explained = []
    for row in rows:
        if row.reason == RecommendationReason.BOUGHT_TOGETHER:
            assert row.via_product is not None, "the reason's CHECK constraint"
            why = _("Bought together with %(product)s (%(times)d times)") % {
                "product": row.via_product.get_title(),
                "times": row.times,
            }
        else:
            assert row.via_category is not None, "the reason's CHECK constraint"
            why = _(
                "Buys in the category %(category)s (%(times)d purchases); "
                "in %(orders)d orders in all"
            ) % {"category": row.via_category.name, "times": row.times, "orders": row.score}
        explained.append(
            Explained(
                position=row.position,
                product=row.product,
                reason=row.get_reason_display(),
                why=why,
            )
        )
    return explained


def pairs_strongest(*, limit: int = 20) -> QuerySet[ProductPair]:
    """The pairs bought together most often, each pair once."""
    return (
        ProductPair.objects.filter(product_id__lt=F("other_id"))
        .select_related("product", "other")
        .order_by("-times", "product_id", "other_id")[:limit]
    )


def run_latest() -> RecommendationRun | None:
    return RecommendationRun.objects.order_by("-started_at", "-id").first()
