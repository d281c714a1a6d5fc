"""Offers read from the cache across requests (bench/README.md, "The basket in a fixed
number of queries").

The site offers, a loyalty tier's offer and a member's segment offers are cached under one
version, replaced by every save or delete of what decides what an offer gives or to whom:
offers (their status, dates, caps and usage counts, `record_usage` included), conditions,
benefits, ranges and their products, classes and categories, tier levels. Replaced now and
again when the transaction commits, so a request that read the rows before the commit
cannot keep them cached under the new version.

What changes with nothing saved is checked on every read, never cached: the offers' start
and end (Oscar's `ConditionalOffer.active`, `is_available`), a member's own use of an offer
(`max_user_applications`), and which products a range holds (Oscar reads that while it
applies the offer). Vouchers are read with the basket, as Oscar does.

One cache round trip per read: the version and the entry come together, and the entry
holds the version it was read under (shop/versioned_cache.py). Without Redis, or while it
is unreachable, the offers are read from the database as Oscar does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.utils import timezone
from oscar.core.loading import get_model

from shop.catalogue.cards import models_fingerprint
from shop.versioned_cache import version_bump, version_replace, versioned

_VERSION_KEY = "shop:offers:v"
_PREFIX = "shop:offers:"


def offers_version_replace() -> None:
    """Retire every cached offer now."""
    version_replace(_VERSION_KEY)


def offers_version_bump(**kwargs: Any) -> None:
    """Retire every cached offer, now and when the current transaction commits (a
    receiver: signal arguments are ignored)."""
    version_bump(_VERSION_KEY)


# The models a cached offer carries (a deploy that changes one reads the offers anew).
_MODELS = (("offer", "ConditionalOffer"), ("offer", "Condition"), ("offer", "Benefit"))


def offers_cached(name: str, load: Callable[[], list]) -> list:
    """The offers `load` reads, from the cache while no offer changed."""
    key = f"{_PREFIX}{models_fingerprint(*_MODELS)}:{name}"
    return cast(list, versioned(_VERSION_KEY, key, load, settings.OFFER_CACHE_SECONDS))


def in_dates(offers: list) -> list:
    """The offers whose start and end (Oscar's `ConditionalOffer.active`) hold now."""
    now = timezone.now()
    return [
        offer
        for offer in offers
        if (offer.start_datetime is None or offer.start_datetime <= now)
        and (offer.end_datetime is None or offer.end_datetime >= now)
    ]


def site_offers() -> list:
    """Oscar's `Applicator.get_site_offers`, from the cache, dates checked now."""
    offer_model = get_model("offer", "ConditionalOffer")

    def load() -> list:
        return list(
            offer_model.objects.filter(
                offer_type=offer_model.SITE, status=offer_model.OPEN
            ).select_related("condition", "benefit")
        )

    return in_dates(offers_cached("site", load))


def receivers_connect() -> None:
    """Bump the offers' version on every change to what they give or to whom."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from loyalty.models import TierLevel

    models = [
        get_model("offer", name)
        for name in ("ConditionalOffer", "Condition", "Benefit", "Range", "RangeProduct")
    ]
    for model in [*models, TierLevel]:
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(
                offers_version_bump,
                sender=model,
                dispatch_uid=f"offers-version-{name}-{model._meta.label}",
            )
    range_model = get_model("offer", "Range")
    offer_model = get_model("offer", "ConditionalOffer")
    through_models = [
        range_model.included_products.through,
        range_model.excluded_products.through,
        range_model.classes.through,
        range_model.included_categories.through,
        range_model.excluded_categories.through,
        offer_model.combinations.through,
    ]
    for through in through_models:
        m2m_changed.connect(
            offers_version_bump,
            sender=through,
            dispatch_uid=f"offers-version-m2m-{through._meta.label}",
        )
