"""Product page views and basket additions counted in Redis, written to Oscar's analytics
tables in batches.

Oscar's analytics receivers write on every product page view: an UPDATE of the product's
ProductRecord (a row each concurrent view of that product waits on), and for a signed-in
shopper an UPDATE of their UserRecord and an INSERT of a UserProductView; and on every
addition to a basket an UPDATE of the ProductRecord's and the UserRecord's
`num_basket_additions`. Our product view (shop/catalogue/views.py) and `basket_addition`'s
receiver here (which replaces Oscar's, see CatalogueConfig.ready) record them instead: one
Redis round trip, no database write in the request (bench/README.md, "The basket in a
fixed number of queries"). `product_views_flush` (Celery beat, every minute) moves what was
counted to the same tables in one transaction: the same figures as Oscar's, a minute later.

Without Redis (REDIS_URL unset, the embedded default), or when Redis fails, the view is
written at once, as Oscar does. A flush takes the pending counts by renaming their keys
(views recorded meanwhile go to new keys) under a lock, so two workers never flush the
same batch; the renamed keys are deleted once the transaction has committed, and a batch
left by a worker that died before committing is flushed by the next run. A worker dying
between that commit and the deletion (one Redis command) would count its batch twice.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from oscar.core.loading import get_model

# hash: "p:<product id>" / "u:<user id>" -> views, "bp:<product id>" / "bu:<user id>" ->
# basket additions
PENDING = "shop:product-views"
PENDING_VIEWS = "shop:product-views:users"  # list of "<user id>:<product id>:<epoch s>"
FLUSHING = ":flushing"
LOCK = "shop:product-views:lock"


def _redis() -> Any:
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _record(counts: dict[str, int], views: list[tuple[int, int, float]]) -> None:
    """Add `counts` and the signed-in shoppers' `views` ((user id, product id, epoch s))
    to the pending ones in Redis; written at once, as Oscar's receivers do, without Redis
    or when Redis fails."""
    if settings.REDIS_URL:
        from redis.exceptions import RedisError

        try:
            pipe = _redis().pipeline(transaction=True)
            for key, n in counts.items():
                pipe.hincrby(PENDING, key, n)
            for user_id, product_id, at in views:
                pipe.rpush(PENDING_VIEWS, f"{user_id}:{product_id}:{at:.3f}")
            pipe.execute()
            return
        except RedisError:
            pass
    _counts_add(counts)
    if views:
        _user_views_add(views)


def basket_addition_record(*, product_id: int, user_id: int | None) -> None:
    """Count one addition of the product to a basket (by this signed-in user, if any)."""
    _record({f"bp:{product_id}": 1, **({f"bu:{user_id}": 1} if user_id else {})}, [])


def basket_addition_receive(sender: Any, product: Any, user: Any, **kwargs: Any) -> None:
    """`basket_addition`'s receiver in place of Oscar's analytics one: counted, not written."""
    if kwargs.get("raw", False):
        return
    user_id = user.pk if user is not None and user.is_authenticated else None
    basket_addition_record(product_id=product.pk, user_id=user_id)


def product_view_record(*, product_id: int, user_id: int | None) -> None:
    """Count one view of the product's page (by this signed-in user, if any)."""
    counts = {f"p:{product_id}": 1, **({f"u:{user_id}": 1} if user_id else {})}
    _record(counts, [(user_id, product_id, time.time())] if user_id else [])


def _counts_add(counts: dict[str, int]) -> None:
    product_model = get_model("catalogue", "Product")
    user_model = get_model(*settings.AUTH_USER_MODEL.split("."))
    product_record = get_model("analytics", "ProductRecord")
    user_record = get_model("analytics", "UserRecord")
    targets = [
        ("p:", product_model, product_record, "product", "num_views"),
        ("u:", user_model, user_record, "user", "num_product_views"),
        ("bp:", product_model, product_record, "product", "num_basket_additions"),
        ("bu:", user_model, user_record, "user", "num_basket_additions"),
    ]
    for prefix, owner_model, record_model, owner, field in targets:
        wanted = {int(k[len(prefix) :]): n for k, n in counts.items() if k.startswith(prefix)}
        # Views of a product (or by a user) deleted since are dropped, as Oscar's would be.
        for owner_id in owner_model.objects.filter(pk__in=wanted).values_list("pk", flat=True):
            record, _created = record_model.objects.get_or_create(**{f"{owner}_id": owner_id})
            record_model.objects.filter(pk=record.pk).update(**{field: F(field) + wanted[owner_id]})


def _user_views_add(views: list[tuple[int, int, float]]) -> None:
    view_model = get_model("analytics", "UserProductView")
    users = set(
        get_model(*settings.AUTH_USER_MODEL.split("."))
        .objects.filter(pk__in={v[0] for v in views})
        .values_list("pk", flat=True)
    )
    products = set(
        get_model("catalogue", "Product")
        .objects.filter(pk__in={v[1] for v in views})
        .values_list("pk", flat=True)
    )
    kept = [v for v in views if v[0] in users and v[1] in products]
    created = view_model.objects.bulk_create(
        view_model(user_id=user_id, product_id=product_id) for user_id, product_id, _at in kept
    )
    # date_created is auto_now_add: set the time of the view itself afterwards.
    for row, (_user, _product, at) in zip(created, kept, strict=True):
        row.date_created = datetime.fromtimestamp(at, tz=UTC)
    view_model.objects.bulk_update(created, ["date_created"])


def product_views_flush() -> dict[str, int]:
    """Write the views and basket additions counted in Redis to Oscar's analytics tables;
    the numbers written."""
    redis = _redis()
    lock = redis.lock(LOCK, timeout=240)
    if not lock.acquire(blocking=False):
        return {"skipped": 1}
    try:
        for key in (PENDING, PENDING_VIEWS):
            # A batch left by a run that did not finish is flushed first, alone.
            if not redis.exists(key + FLUSHING) and redis.exists(key):
                redis.rename(key, key + FLUSHING)
        counts = {k.decode(): int(n) for k, n in redis.hgetall(PENDING + FLUSHING).items()}
        views = []
        for item in redis.lrange(PENDING_VIEWS + FLUSHING, 0, -1):
            user_id, product_id, at = item.decode().split(":")
            views.append((int(user_id), int(product_id), float(at)))
        with transaction.atomic():
            _counts_add(counts)
            _user_views_add(views)
        redis.delete(PENDING + FLUSHING, PENDING_VIEWS + FLUSHING)
    finally:
        lock.release()
    return {
        "product_views": sum(n for k, n in counts.items() if k.startswith("p:")),
        "user_views": len(views),
        "basket_additions": sum(n for k, n in counts.items() if k.startswith("bp:")),
    }
