"""Helpers of the catalogue page tests."""

from django.conf import settings


def product_view_writes(*, signed_in: bool) -> int:
    """Queries a product page spends recording its view in Oscar's analytics tables.

    With Redis none: the view is counted there and written by Celery a minute later
    (shop/catalogue/product_views.py). Without Redis (the embedded default) it is written
    at once, as Oscar does: the product's record (3 queries), and for a signed-in shopper
    their record and the view itself too (10 in all).
    """
    if settings.REDIS_URL:
        return 0
    return 10 if signed_in else 3


def basket_addition_writes(*, signed_in: bool, records_new: bool = False) -> int:
    """Queries an addition to the basket spends in Oscar's analytics tables: none with
    Redis (counted there, written by Celery: shop/catalogue/product_views.py); without it,
    written at once: the product's record (the product read, the record read, its counter
    raised: 3; 6 when the record is created, with its savepoint), and the shopper's too."""
    if settings.REDIS_URL:
        return 0
    per_record = 6 if records_new else 3
    return per_record * (2 if signed_in else 1)


def product_page_retire(product) -> None:
    """Retire the product page's cached parts (shop/catalogue/product_page.py), so that the
    next view renders them again: what a changed product, stock record or image does."""
    from shop.catalogue.cards import card_versions_bump

    card_versions_bump([product.pk])
