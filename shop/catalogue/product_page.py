"""The product page's shared parts, rendered once per product version, store and language
and reused from the cache (bench/README.md, "pages_at_size.py").

What the page shows of the product itself is the same for every shopper who chose the same
store and reads the same language: the breadcrumbs, the gallery, the title, price and
availability (Oscar's strategy reads the chosen store's stock record), the stock in nearby
stores, the rating, the variants, the description and information table, and the JSON-LD.
Those parts are the `{% page_part %}` blocks of `oscar/catalogue/detail.html` and the JSON-LD,
cached under a key that names:

- the product's card version (shop/catalogue/cards.py), replaced whenever a row these parts
  read is saved or deleted: the product or a variant, a stock record (Oscar's allocations
  at checkout included), an image, its options, and, connected below, its attribute values,
  its categories and its reviews;
- the cards' global version, replaced when stores, partners, product classes, options or,
  connected below, categories change (the breadcrumbs show a category's ancestors);
- the chosen store's partner (none: Oscar's default stock record), the language, the host
  (links are absolute) and a hash of the templates' sources.

What is per shopper stays out of the fragments and is rendered on every request: the
"Add to basket" and stock alert forms (CSRF token, the shopper's alert), the wish list
menu, "Write a review", the staff link, the reviews with their purchase badges (an order
collected later changes a badge), the recommendation shelves (their cards come from the
card cache) and the recently viewed products. The JSON-LD's data is cached, not its
`<script>` tag, which carries the response's CSP nonce.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import prefetch_related_objects
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import translation
from oscar.core.loading import get_model

from .cards import (
    card_versions_bump,
    everything_changed,
    models_fingerprint,
    product_versions,
    product_versions_peek,
    products_m2m_changed,
    templates_hash,
)

# The templates whose output the fragments hold: a deploy that changes one of them keys
# the page anew instead of showing the old fragments.
PAGE_TEMPLATES = (
    "oscar/catalogue/detail.html",
    "oscar/catalogue/partials/gallery.html",
    "oscar/catalogue/partials/stock_record.html",
    "oscar/catalogue/partials/review_rating.html",
    "stores/partials/product_stores.html",
    "shop/partials/share_button.html",
)
_PREFIX = "shop:product-page"


# The page's cached parts, each a `{% page_part "name" %}` of the template but the JSON-LD
# (stores' `product_jsonld` tag).
PARTS = ("breadcrumbs", "gallery", "main", "variants", "share", "details", "jsonld")


@dataclass
class ProductPage:
    """What the product view adds to its context as `product_page`: the parts' key and
    lifetime, the number of approved reviews and the recommended products' ids (cached with
    them: the reviews section and the recommendations shelf, which are not, start from
    them), and the parts found in the cache, all read at once."""

    key: str
    seconds: int
    reviews: int
    recommended: list[int] = field(default_factory=list)
    found: dict[str, str] = field(default_factory=dict)
    rendered: dict[str, str] = field(default_factory=dict)

    def part(self, name: str, render: Callable[[], str]) -> str:
        """The cached part `name`, or `render()`'s output, cached by `store`."""
        if name not in self.found:
            self.found[name] = self.rendered[f"{_PREFIX}:{self.key}:{name}"] = render()
        return self.found[name]

    def store(self, response: Any = None) -> None:
        """Cache the parts rendered for this response, in one round trip (the view calls
        it once the page is rendered)."""
        if self.rendered:
            cache.set_many(self.rendered, self.seconds)
            self.rendered = {}


def product_cached(product_id: int, read: Callable[[], Any]) -> tuple[Any, tuple | None]:
    """The product the page shows, with what every view of it reads (`read()`: its class,
    parent and stock records), from the cache under its card version; and the versions
    read, for `product_page`. With no version in the cache yet (first view, or evicted),
    the product is read and not cached: `product_page` makes the versions, and only an
    existing product ever gets one."""
    versions = product_versions_peek(product_id)
    if versions is None:
        return read(), None
    general, version = versions
    # The versions are read before the product: a change after this point replaces them,
    # and what is stored below is never read again.
    fingerprint = models_fingerprint(
        ("catalogue", "Product"), ("catalogue", "ProductClass"), ("partner", "StockRecord")
    )
    key = f"{_PREFIX}:object:{fingerprint}:{general}:{version}:{product_id}"
    product = cache.get(key)
    if product is None:
        product = read()
        cache.set(key, product, settings.PRODUCT_CARD_CACHE_SECONDS)
    return product, (general, version)


def product_page(request: Any, product: Any, versions: tuple | None = None) -> ProductPage:
    """The shared parts of `product`'s page for this request, read from the cache in one
    round trip. When they are not there (first view of this version, store and language),
    the product's rows they read are fetched now, a fixed number of queries, rather than
    one at a time while rendering."""
    from stores.selectors import chosen_store_for_request

    if versions is None:
        general, version = product_versions([product.pk])
        versions = (general, version[product.pk])
    store = chosen_store_for_request(request)
    key = ":".join(
        (
            request.get_host(),  # the share links and JSON-LD URLs are absolute
            *versions,
            templates_hash(PAGE_TEMPLATES),
            translation.get_language() or "",
            str(store.partner_id if store is not None else 0),
        )
    )
    seconds = settings.PRODUCT_CARD_CACHE_SECONDS
    keys = {f"{_PREFIX}:{key}:{name}": name for name in ("reviews", "recommended", *PARTS)}
    found = {keys[k]: value for k, value in cache.get_many(list(keys)).items()}
    reviews = found.pop("reviews", None)
    recommended = found.pop("recommended", None)
    shown = PARTS if product.is_parent else tuple(p for p in PARTS if p != "variants")
    if reviews is None or not set(shown) <= set(found):
        related = ["images", "children__stockrecords"] if product.is_parent else ["images"]
        prefetch_related_objects([product], *related)
    if reviews is None:
        reviews = product.num_approved_reviews
        cache.set(f"{_PREFIX}:{key}:reviews", reviews, seconds)
    if recommended is None:
        recommended = recommended_ids(product)
        cache.set(f"{_PREFIX}:{key}:recommended", recommended, seconds)
    return ProductPage(
        key=key, seconds=seconds, reviews=reviews, recommended=recommended, found=found
    )


RECOMMENDED_SHOWN = 6


def recommended_ids(product: Any) -> list[int]:
    """The products the catalogue managers recommend with `product`, in their ranking
    (Oscar's `sorted_recommended_products`), the first RECOMMENDED_SHOWN."""
    recommendation = get_model("catalogue", "ProductRecommendation")
    return list(
        recommendation.objects.filter(primary_id=product.pk)
        .order_by("-ranking", "pk")
        .values_list("recommendation_id", flat=True)[:RECOMMENDED_SHOWN]
    )


# --- What retires the fragments, besides what retires the cards -------------------------


def _product_row_changed(sender, instance, **kwargs) -> None:
    """A category link or a review of a product changed."""
    card_versions_bump([instance.product_id])


def _recommendation_changed(sender, instance, **kwargs) -> None:
    """A product's recommendations (a row of the dashboard's formset) changed."""
    card_versions_bump([instance.primary_id])


def _attribute_value_changed(sender, instance, **kwargs) -> None:
    """A variant's page shows its parent's attributes (the JSON-LD's brand) too."""
    product = get_model("catalogue", "Product")
    children = product.objects.filter(parent_id=instance.product_id).values_list("pk", flat=True)
    card_versions_bump([instance.product_id, *children])


def receivers_connect() -> None:
    """Called by the catalogue app's ready()."""
    product_category = get_model("catalogue", "ProductCategory")
    for signal in (post_save, post_delete):
        signal.connect(
            _attribute_value_changed,
            sender=get_model("catalogue", "ProductAttributeValue"),
            dispatch_uid="product-page-attribute-value",
        )
        for label in (("catalogue", "ProductCategory"), ("reviews", "ProductReview")):
            signal.connect(
                _product_row_changed,
                sender=get_model(*label),
                dispatch_uid=f"product-page-{label[1].lower()}",
            )
        signal.connect(
            everything_changed,
            sender=get_model("catalogue", "Category"),
            dispatch_uid="product-page-category",
        )
        signal.connect(
            _recommendation_changed,
            sender=get_model("catalogue", "ProductRecommendation"),
            dispatch_uid="product-page-recommendation",
        )
    for through, name in (
        (product_category, "categories"),
        (get_model("catalogue", "ProductRecommendation"), "recommendations"),
    ):
        m2m_changed.connect(
            products_m2m_changed, sender=through, dispatch_uid=f"product-page-{name}-m2m"
        )
