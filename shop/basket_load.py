"""The shopper's basket, read once per request with what its pages read of it
(bench/README.md, "The basket in a fixed number of queries").

Oscar's basket reads its lines with their products, stock records, images and attributes,
but not the products' classes nor their stock records, which the strategy reads for every
line each time it prices one (the basket page prices each line two or three times), nor
the offers, which it reads again (site offers, vouchers, the member's tier and segment
offers) each time it applies them and once more for the page's upsell messages. Here:

- `lines_load` reads the lines once with all of that, so that pricing a line, asking
  whether it needs shipping or counting the lines costs no query, whatever their number;
- `offers_apply` reads the offers once per request (kept on the request, never shared
  between requests) and applies them again from there after the basket changes;
- a signed-in shopper's open basket is read with whether it has any lines, so that an
  empty basket (the common case on every page a member browses: its count is in the
  header) costs one query, not two (`member_basket`).
"""

from typing import Any

from django.db.models import Exists, OuterRef
from oscar.apps.basket import middleware as oscar_middleware
from oscar.core.loading import get_class, get_model

Applicator = get_class("offer.applicator", "Applicator")
Basket = get_model("basket", "Basket")
Line = get_model("basket", "Line")


def lines_load(basket: Any) -> None:
    """Read the basket's lines (once) with what pricing and showing them reads."""
    if basket.id is None:
        return
    basket._lines = (
        basket.lines.select_related(
            "product__product_class", "product__parent__product_class", "stockrecord"
        )
        .prefetch_related(
            "attributes__option",
            "product__images",
            "product__parent__images",
            "product__stockrecords",
        )
        .order_by(basket._meta.pk.name)
    )
    # Evaluated now: Oscar's `num_lines` counts an evaluated queryset without a query.
    list(basket._lines)


def member_basket(request: Any) -> Any:
    """The signed-in shopper's one open basket, read with whether it has lines (an empty
    one gets its lines without a query); None when Oscar's own reading is needed: no
    basket yet (Oscar creates it), several (Oscar merges them)."""
    baskets = list(
        Basket.open.filter(owner=request.user).annotate(
            has_lines=Exists(Line.objects.filter(basket=OuterRef("pk")))
        )[:2]
    )
    if len(baskets) != 1:
        return None
    basket = baskets[0]
    basket.owner = request.user
    if not basket.has_lines:
        # Oscar sets `_lines` back to None whenever the basket changes.
        basket._lines = basket.lines.none()
    return basket


def request_offers(request: Any, basket: Any) -> list:
    """The offers for this request's basket and shopper, read once per request."""
    offers = getattr(request, "_basket_offers", None)
    if offers is None:
        offers = Applicator().get_offers(basket, request.user, request)
        request._basket_offers = offers
    return offers


def offers_apply(request: Any, basket: Any) -> None:
    """Oscar's `Applicator().apply`, with the request's offers and the lines read once."""
    if basket._lines is None:
        lines_load(basket)
    if basket.is_empty:
        return
    Applicator().apply_offers(basket, request_offers(request, basket))


class BasketMiddleware(oscar_middleware.BasketMiddleware):
    """Oscar's, whose basket is read with `lines_load` (a member's with `member_basket`)
    and priced with `offers_apply`."""

    def get_basket(self, request: Any) -> Any:
        # A member without a cookie basket to merge: their open basket, if they have
        # exactly one, goes in Oscar's per-request cache, which Oscar's method returns.
        if (
            request._basket_cache is None
            and request.user.is_authenticated
            and self.get_cookie_key(request) not in request.COOKIES
        ):
            request._basket_cache = member_basket(request)
        return super().get_basket(request)

    def apply_offers_to_basket(self, request: Any, basket: Any) -> None:
        if basket._lines is None:
            lines_load(basket)
        offers_apply(request, basket)
