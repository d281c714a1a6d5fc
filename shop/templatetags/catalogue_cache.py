"""Oscar's `category_tree`, read from the cache: the menu on every page, the home page's
tiles and the categories page show the same tree (bench/README.md, "pages_at_size.py").

The tree is kept per language and depth under the product cards' global version
(shop/catalogue/cards.py), which a category's save or delete replaces
(shop/catalogue/product_page.py); tree moves that bypass the ORM's signals show after
PRODUCT_CARD_CACHE_SECONDS at worst.
"""

from __future__ import annotations

from typing import cast

from django import template
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from oscar.templatetags.category_tags import get_annotated_list

from shop.catalogue.cards import product_versions, templates_hash

register = template.Library()


@register.simple_tag
def category_tree_cached(depth: int | None = None) -> list:
    """`{% category_tree_cached depth=1 as tree_categories %}`: Oscar's `category_tree`
    (its whole tree, no parent), the same list, from the cache when it is there."""
    general, _ = product_versions([])
    key = f"shop:category-tree:{general}:{translation.get_language()}:{depth}"
    tree = cache.get_or_set(
        key, lambda: get_annotated_list(depth=depth), settings.PRODUCT_CARD_CACHE_SECONDS
    )
    return cast(list, tree)


@register.simple_tag
def catalogue_fragment(template_name: str) -> dict:
    """`{% catalogue_fragment "oscar/partials/nav_primary.html" as fragment %}`, then
    `{% cache fragment.seconds "name" fragment.version ... %}`: what keys a fragment that
    shows the catalogue's categories (Django's fragment cache): the cards' global version,
    which a category's save or delete replaces, and a hash of the template's source (a
    deploy that changes it does not show the old fragment)."""
    general, _ = product_versions([])
    return {
        "version": f"{general}:{templates_hash((template_name,))}",
        "seconds": settings.PRODUCT_CARD_CACHE_SECONDS,
    }
