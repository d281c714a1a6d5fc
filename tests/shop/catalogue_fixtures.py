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


def product_page_retire(product) -> None:
    """Retire the product page's cached parts (shop/catalogue/product_page.py), so that the
    next view renders them again: what a changed product, stock record or image does."""
    from shop.catalogue.cards import card_versions_bump

    card_versions_bump([product.pk])
