"""Purchase badges on product reviews (README "Social"): "Verified purchase" when the
reviewer has a completed order with the product, "collected at <store>" when that order
was a click & collect pickup handed over in a store."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from oscar.core.loading import get_model

from shop.constants import COMPLETE
from stores.models import PickupStatus

Line = get_model("order", "Line")

# An order is completed once staff mark it COMPLETE (settings OSCAR_ORDER_STATUS_PIPELINE)
# or, for click & collect, once its pickup is handed over.


@dataclass(frozen=True)
class ReviewPurchase:
    verified: bool = False
    store_name: str = ""


NOT_VERIFIED = ReviewPurchase()


def reviews_with_purchases(*, product, reviews, limit: int | None = None) -> list:
    """The first `limit` of `reviews` as a list, each with a `purchase` (ReviewPurchase):
    one query for the reviews, with their authors when `reviews` is a queryset not yet
    sliced (the template shows the author's name), and one for the purchases of all the
    authors. A page of a paginated list (already sliced) keeps its own loading."""
    if isinstance(reviews, QuerySet) and not reviews.query.is_sliced:
        reviews = reviews.select_related("user")
    reviews = list(reviews[:limit] if limit is not None else reviews)
    user_ids = {review.user_id for review in reviews if review.user_id}
    purchases: dict[int, ReviewPurchase] = {}
    if user_ids:
        collected = Q(order__pickup__status=PickupStatus.COLLECTED)
        rows = (
            Line.objects.filter(product_id=product.pk, order__user_id__in=user_ids)
            .filter(Q(order__status=COMPLETE) | collected)
            .values_list("order__user_id", "order__pickup__status", "order__pickup__store__name")
            .order_by("order__date_placed", "order_id")
        )
        for user_id, pickup_status, store_name in rows:
            if pickup_status == PickupStatus.COLLECTED:
                # The latest store pickup wins over a delivered order.
                purchases[user_id] = ReviewPurchase(verified=True, store_name=store_name)
            elif user_id not in purchases:
                purchases[user_id] = ReviewPurchase(verified=True)
    for review in reviews:
        review.purchase = purchases.get(review.user_id, NOT_VERIFIED)
    return reviews
