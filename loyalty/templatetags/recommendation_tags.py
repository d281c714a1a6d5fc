"""Recommendation shelves for the shop's pages (README.md "Recommendations"): products
bought together on the product page and in the basket, the member's "for you" products.

Each shelf costs a fixed number of queries whatever its size: the candidate list (cached,
loyalty.recommendations), the ids and stock figures that order it for the shopper's store,
then the cards (the catalogue app's `cards` module: from the cache, the missing ones fetched
with what a card reads prefetched and rendered). The order is cached too, under the
candidates' card versions, which any change of their stock or of the products replaces:
no query at all while nothing changed.
"""

import hashlib
from typing import Any, cast

from django import template
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from loyalty.recommendations import (
    FOR_YOU_SHOWN,
    TOGETHER_SHOWN,
    for_you_ids,
    ids_in_store_order,
    together_ids,
)
from stores.selectors import chosen_store_for_request

# The catalogue app's product cards, through Oscar's loader: loyalty never imports shop
# (docs/architecture.md).
cards_html = get_class("catalogue.cards", "cards_html")
product_versions = get_class("catalogue.cards", "product_versions")

register = template.Library()
SHELF = "loyalty/partials/product_shelf.html"


def _in_store_order(ids: list[int], store: Any, limit: int) -> tuple[list[int], tuple]:
    """`ids_in_store_order`, cached until one of the candidates' card versions changes;
    and those versions, which the shown cards' keys name too."""
    general, versions = product_versions(ids)
    named = ",".join(f"{pk}.{versions[pk]}" for pk in ids)
    digest = hashlib.sha1(named.encode(), usedforsecurity=False).hexdigest()
    partner = store.partner_id if store is not None else 0
    shown = cache.get_or_set(
        f"loyalty:shelf:{general}:{partner}:{limit}:{digest}",
        lambda: ids_in_store_order(ids=ids, store=store, limit=limit),
        settings.PRODUCT_CARD_CACHE_SECONDS,
    )
    return cast(list[int], shown), (general, versions)


def _shelf(context: Any, *, ids: list[int], limit: int, title: str, slug: str) -> dict:
    request = context["request"]
    if not ids:
        return {"cards": [], "title": title, "slug": slug}
    shown, versions = _in_store_order(ids, chosen_store_for_request(request), limit)
    return {
        "cards": cards_html(request, shown, versions_read=versions),
        "title": title,
        "slug": slug,
    }


@register.inclusion_tag(SHELF, takes_context=True)
def bought_together(context: Any, product: Any) -> dict:
    """Products most often bought with `product` (its parent's, for a variant)."""
    canonical = product.parent_id or product.pk
    return _shelf(
        context,
        ids=together_ids(product_ids=[canonical]),
        limit=TOGETHER_SHOWN,
        title=_("Often bought together"),
        slug="bought-together",
    )


@register.inclusion_tag(SHELF, takes_context=True)
def basket_suggestions(context: Any, basket: Any) -> dict:
    """Products bought with what is in the basket; with an empty basket, or none bought
    with it, the signed-in member's "for you" products."""
    in_basket = {line.product.parent_id or line.product_id for line in basket.all_lines()}
    ids = together_ids(product_ids=in_basket)
    title = _("Often bought together")
    if not ids:
        ids = [pk for pk in for_you_ids(user=context.get("user")) if pk not in in_basket]
        title = _("For you")
    return _shelf(context, ids=ids, limit=TOGETHER_SHOWN, title=title, slug="basket-suggestions")


@register.inclusion_tag(SHELF, takes_context=True)
def for_you(context: Any) -> dict:
    """The signed-in member's "for you" products (nothing for a guest)."""
    return _shelf(
        context,
        ids=for_you_ids(user=context.get("user")),
        limit=FOR_YOU_SHOWN,
        title=_("For you"),
        slug="for-you",
    )
