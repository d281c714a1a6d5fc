"""Product cards rendered once and reused from the cache (bench/README.md, "home.py").

The home page's shelves ("For you", "New in store") and the recommendation shelves of the
product and basket pages show cards by product id: a card found in the cache costs no
query and no rendering; only the missing ones are fetched (one query plus the card's
prefetches, whatever their number) and rendered.

A card's HTML depends on the product (titles, image, options, class), on its stock records
and its variants' (price and availability through the strategy), on the shopper's chosen
store, on the language and on the card templates. Its key names each of them:

- the product's card version, a random token replaced by the receivers below whenever a
  row the card reads is saved or deleted (the product or a variant, a stock record,
  including Oscar's allocations at checkout, which send post_save; an image; its options),
  and once more when the transaction commits, so a card rendered from the old rows in
  between is not kept under the new token;
- a global version, replaced when stores, partners, product classes or options change;
- the chosen store's partner (none: Oscar's default stock record), the language, where the
  first cards of a list load their images eagerly, and a hash of the templates' sources
  (a deploy that changes them does not show old cards).

What is per shopper is never in a card: the "Add to basket" form is stored with a
placeholder for its CSRF token, replaced by the request's own token. A version missing
from the cache (evicted) is replaced by a new token, so an old card is never read by
mistake; cards expire after PRODUCT_CARD_CACHE_SECONDS in any case (writes that bypass
the ORM's signals, such as `QuerySet.update`, show after that at worst).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from functools import cache as memoised
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.middleware.csrf import get_token
from django.template import Context
from django.template.backends.django import Template as DjangoTemplate
from django.template.loader import get_template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from oscar.core.loading import get_model
from oscar.templatetags.product_tags import render_product

# What the cached card holds instead of the request's CSRF token.
CSRF_PLACEHOLDER = "csrf-token-of-the-request-b7e1c0"
CARD_TEMPLATES = (
    "oscar/catalogue/partials/product.html",
    "oscar/catalogue/partials/stock_record.html",
)
_PREFIX = "shop:card"
_GLOBAL_KEY = f"{_PREFIX}:v:all"


def _version_key(product_id: int) -> str:
    return f"{_PREFIX}:v:{product_id}"


@memoised
def templates_hash(names: tuple[str, ...]) -> str:
    """A short hash of these templates' sources, part of the keys of what they render."""
    sources = "".join(cast(DjangoTemplate, get_template(name)).template.source for name in names)
    return hashlib.sha1(sources.encode(), usedforsecurity=False).hexdigest()[:12]


@memoised
def models_fingerprint(*labels: tuple[str, str]) -> str:
    """What pickled instances of these models depend on: the Django and Oscar versions and
    the models' columns. Part of the key of cached model instances, so that a deploy that
    changes one reads them anew instead of unpickling old ones."""
    import django
    import oscar

    names = [django.__version__, str(oscar.VERSION)]
    for label in labels:
        names += [f.attname for f in get_model(*label)._meta.concrete_fields]
    return hashlib.sha1(" ".join(names).encode(), usedforsecurity=False).hexdigest()[:12]


def product_versions(product_ids: Iterable[int]) -> tuple[str, dict[int, str]]:
    """The global version and each product's card version, new tokens for missing ones."""
    keys = {_version_key(pk): pk for pk in product_ids}
    # A copy: while Redis is unreachable django-redis answers every get_many with one
    # shared {} (IGNORE_EXCEPTIONS), which must not be filled in.
    found = dict(cache.get_many([_GLOBAL_KEY, *keys]))
    missing = {key: uuid.uuid4().hex for key in (_GLOBAL_KEY, *keys) if key not in found}
    if missing:
        cache.set_many(missing, None)
        found.update(missing)
    return found[_GLOBAL_KEY], {pk: found[key] for key, pk in keys.items()}


def product_versions_peek(product_id: int) -> tuple[str, str] | None:
    """The global version and the product's card version if both are in the cache; none
    is made (`product_versions` makes them)."""
    key = _version_key(product_id)
    found = dict(cache.get_many([_GLOBAL_KEY, key]))
    if _GLOBAL_KEY in found and key in found:
        return found[_GLOBAL_KEY], found[key]
    return None


def _bump(keys: list[str]) -> None:
    if keys:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, None)


def card_versions_bump(product_ids: Iterable[int | None] = (), *, everything: bool = False):
    """Retire the cached cards of these products (of every product with `everything`),
    now and again when the current transaction commits."""
    keys = [_version_key(pk) for pk in set(product_ids) if pk is not None]
    if everything:
        keys.append(_GLOBAL_KEY)
    _bump(keys)
    transaction.on_commit(lambda: _bump(keys))


def _products_for_cards(ids: Sequence[int]) -> list[Any]:
    """The browsable products of `ids` with what a card reads prefetched (Oscar's
    base_queryset, variants' stock for parents): a fixed number of queries."""
    product = get_model("catalogue", "Product")
    return list(
        product.objects.browsable()
        .base_queryset()
        .prefetch_related("children__stockrecords")
        .filter(pk__in=ids)
    )


def cards_html(
    request: Any,
    product_ids: Sequence[int],
    *,
    eager: int = 0,
    versions_read: tuple[str, dict[int, str]] | None = None,
) -> list[SafeString]:
    """The cards of the browsable products of `product_ids`, in that order, for this
    request's store and language. The first `eager` cards load their images eagerly, the
    very first with a high priority (above the fold on a phone). `versions_read`: what
    `product_versions` answered for these ids (or more) earlier in the request."""
    if not product_ids:
        return []
    from stores.selectors import chosen_store_for_request

    store = chosen_store_for_request(request)
    if versions_read is not None and set(product_ids) <= versions_read[1].keys():
        general, versions = versions_read
    else:
        general, versions = product_versions(product_ids)
    shared = (
        f"{_PREFIX}:{general}:{templates_hash(CARD_TEMPLATES)}:{translation.get_language()}"
        f":{store.partner_id if store is not None else 0}"
    )

    def key(position: int, product_id: int) -> str:
        flags = "h" if position == 0 and eager else "e" if position < eager else "l"
        return f"{shared}:{flags}:{product_id}:{versions[product_id]}"

    keys = [key(position, pk) for position, pk in enumerate(product_ids)]
    found = dict(cache.get_many(keys))  # a copy, as in product_versions
    wanted = [pk for k, pk in zip(keys, product_ids, strict=True) if k not in found]
    if wanted:
        rendered = {}
        products = {p.pk: p for p in _products_for_cards(wanted)}
        for position, pk in enumerate(product_ids):
            if keys[position] in found or pk not in products:
                continue
            context = Context(
                {
                    "request": request,
                    "csrf_token": CSRF_PLACEHOLDER,
                    "eager": position < eager,
                    "high_priority": position == 0 and eager > 0,
                }
            )
            rendered[keys[position]] = str(render_product(context, products[pk]))
        cache.set_many(rendered, settings.PRODUCT_CARD_CACHE_SECONDS)
        found.update(rendered)
    token = get_token(request) if any(CSRF_PLACEHOLDER in html for html in found.values()) else ""
    return [
        mark_safe(found[k].replace(CSRF_PLACEHOLDER, token))  # noqa: S308 (our own render)
        for k in keys
        if k in found
    ]


# --- What retires cards ------------------------------------------------------------------


def _product_changed(sender, instance, **kwargs) -> None:
    card_versions_bump([instance.pk, instance.parent_id])


def _stockrecord_changed(sender, instance, **kwargs) -> None:
    field = instance._meta.get_field("product")
    parent_id = None
    if field.is_cached(instance):
        parent_id = instance.product.parent_id
    else:
        product = get_model("catalogue", "Product")
        parent_id = (
            product.objects.filter(pk=instance.product_id)
            .values_list("parent_id", flat=True)
            .first()
        )
    card_versions_bump([instance.product_id, parent_id])


def _image_changed(sender, instance, **kwargs) -> None:
    try:
        parent_id = instance.product.parent_id
    except ObjectDoesNotExist:
        parent_id = None
    card_versions_bump([instance.product_id, parent_id])


def products_m2m_changed(sender, instance, pk_set, reverse, **kwargs) -> None:
    """A many-to-many of products (their options, their categories) changed."""
    if reverse:  # e.g. option.product_set changed: the products are in pk_set
        card_versions_bump(pk_set or (), everything=pk_set is None)
    else:
        card_versions_bump([instance.pk])


def everything_changed(sender, **kwargs) -> None:
    card_versions_bump(everything=True)


def receivers_connect() -> None:
    """Called by the catalogue app's ready()."""
    product = get_model("catalogue", "Product")
    for signal in (post_save, post_delete):
        signal.connect(_product_changed, sender=product, dispatch_uid="card-product")
        signal.connect(
            _stockrecord_changed,
            sender=get_model("partner", "StockRecord"),
            dispatch_uid="card-stockrecord",
        )
        signal.connect(
            _image_changed,
            sender=get_model("catalogue", "ProductImage"),
            dispatch_uid="card-image",
        )
        for label in (
            ("catalogue", "ProductClass"),
            ("catalogue", "Option"),
            ("partner", "Partner"),
            ("stores", "Store"),
        ):
            signal.connect(
                everything_changed,
                sender=get_model(*label),
                dispatch_uid=f"card-all-{label[1].lower()}",
            )
    m2m_changed.connect(
        products_m2m_changed,
        sender=product.product_options.through,
        dispatch_uid="card-product-options",
    )
    m2m_changed.connect(
        everything_changed,
        sender=get_model("catalogue", "ProductClass").options.through,
        dispatch_uid="card-class-options",
    )
