from celery import shared_task

from .product_views import product_views_flush


@shared_task(name="shop.catalogue.tasks.product_views_flush")
def product_views_flush_task() -> dict[str, int]:
    """Write the product page views and basket additions counted in Redis
    (shop/catalogue/product_views.py).
    Safe to run twice at once: the second finds the lock taken and does nothing."""
    return product_views_flush()
