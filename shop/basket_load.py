"""The shopper's basket, read once per request with what its pages read of it
(bench/README.md, "The basket in a fixed number of queries").

Oscar's basket reads its lines with their products, stock records, images and attributes,
but not the products' classes nor their stock records, which the strategy reads for every
line each time it prices one (the basket page prices each line two or three times), nor
the offers, which it reads again (site offers, vouchers, the member's tier and segment
offers) each time it applies them and once more for the page's upsell messages. Here:

- `lines_load` reads the lines once with all of that, so that pricing a line, asking
  whether it needs shipping or counting the lines costs no query, whatever their number;
- `offers_apply` reads the offers once per request (the site, tier and segment offers
  from the cache, shop/offer/cache.py) and applies them again from there after the basket
  changes;
- a signed-in shopper's open basket is read with whether it has any lines, so that an
  empty basket (the common case on every page a member browses: its count is in the
  header) costs one query, not two (`member_basket`), and a member's or a guest's with
  whether it has vouchers (none: the offers' Applicator reads none).
"""

from typing import Any

from django.core.signing import BadSignature, Signer
from django.db.models import Exists, OuterRef, Prefetch, prefetch_related_objects
from oscar.apps.basket import middleware as oscar_middleware
from oscar.core.loading import get_class, get_model

Applicator = get_class("offer.applicator", "Applicator")
Basket = get_model("basket", "Basket")
Line = get_model("basket", "Line")
LineAttribute = get_model("basket", "LineAttribute")
Product = get_model("catalogue", "Product")

# Set on a request whose view shows none of the basket's lines (the add: a redirect).
LINES_UNSHOWN = "basket_lines_unshown"
# Products (by pk, with their stock records) the request's view read before the basket.
PRODUCTS_READ = "basket_products_read"


def _evaluated(queryset: Any, rows: list) -> Any:
    # `queryset` as if it had read `rows` (and their prefetches): Oscar's code counts and
    # iterates it without a query.
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


def _lines_known(basket: Any, known: list) -> None:
    # The lines as this request read and changed them (shop/basket_add.py): the queryset
    # Oscar expects, evaluated, with no discount left from a pricing.
    for line in known:
        line.clear_discount()
    basket._lines = _evaluated(basket.lines.all(), list(known))


def _attributes_none(line: Any) -> None:
    # What prefetch_related leaves on a line without attributes: no query to list them.
    attributes = _evaluated(line.attributes.all(), [])
    line.__dict__.setdefault("_prefetched_objects_cache", {})["attributes"] = attributes


def _lines_complete(lines: list, *, images: bool, products: dict) -> None:
    # What pricing and showing the lines read, for lines of any number: the products' stock
    # records (those this request read already are used as they are), images, attributes
    # (only lines with some have them: products with options), a variant's parent with its
    # class (its parent is not worth joining to every line).
    for line in lines:
        if line.product_id in products:
            line.product = products[line.product_id]
    shown = [line.product for line in lines]
    prefetch_related_objects(shown, "stockrecords", *(["images"] if images else []))
    prefetch_related_objects([line for line in lines if line.has_attributes], "attributes__option")
    variants = [product for product in shown if product.parent_id is not None]
    parents = Prefetch("parent", queryset=Product.objects.select_related("product_class"))
    prefetch_related_objects(variants, parents, *(["parent__images"] if images else []))
    for line in lines:
        if not line.has_attributes:
            _attributes_none(line)


def lines_load(basket: Any, *, images: bool = True, products: dict | None = None) -> None:
    """Read the basket's lines (once) with what pricing and showing them reads (their
    products' images only with `images`; `products` by pk: already read, with their stock
    records)."""
    if basket.id is None:
        return
    known = getattr(basket, "lines_known", None)
    if known is not None:
        # Used once: lines read after a later change are read from the database.
        del basket.lines_known
        _lines_known(basket, known)
        return
    lines = list(
        basket.lines.select_related("product__product_class", "stockrecord")
        .annotate(has_attributes=Exists(LineAttribute.objects.filter(line=OuterRef("pk"))))
        .order_by(basket._meta.pk.name)
    )
    _lines_complete(lines, images=images, products=products or {})
    # An evaluated queryset: Oscar's `num_lines` counts it without a query.
    _lines_known(basket, lines)


def lines_load_for(request: Any, basket: Any) -> None:
    """`lines_load` as this request's view wants them (`LINES_UNSHOWN`, `PRODUCTS_READ`)."""
    lines_load(
        basket,
        images=not getattr(request, LINES_UNSHOWN, False),
        products=getattr(request, PRODUCTS_READ, None),
    )


def _has_vouchers() -> Exists:
    return Exists(Basket.vouchers.through.objects.filter(basket_id=OuterRef("pk")))


def member_basket(request: Any) -> Any:
    """The signed-in shopper's one open basket, read with whether it has lines (an empty
    one gets its lines without a query); None when Oscar's own reading is needed: no
    basket yet (Oscar creates it), several (Oscar merges them)."""
    baskets = list(
        Basket.open.filter(owner=request.user).annotate(
            has_lines=Exists(Line.objects.filter(basket=OuterRef("pk"))),
            has_vouchers=_has_vouchers(),
        )[:2]
    )
    if len(baskets) != 1:
        return None
    basket = baskets[0]
    basket.owner = request.user
    basket.vouchers_none = not basket.has_vouchers
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
        lines_load_for(request, basket)
    if basket.is_empty:
        return
    Applicator().apply_offers(basket, request_offers(request, basket))


def vouchers_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A basket given or relieved of a voucher: its vouchers are read again (receiver of
    `m2m_changed` for Basket.vouchers)."""
    if isinstance(instance, Basket):
        instance.__dict__.pop("vouchers_none", None)


class BasketMiddleware(oscar_middleware.BasketMiddleware):
    """Oscar's, whose basket is read with `lines_load` (a member's with `member_basket`, a
    guest's with whether it has vouchers: none, the offers' Applicator reads none,
    shop/offer/applicator.py) and priced with `offers_apply`."""

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
            lines_load_for(request, basket)
        offers_apply(request, basket)

    def get_cookie_basket(self, cookie_key: str, request: Any, manager: Any) -> Any:
        # Oscar's, with whether the basket has vouchers.
        if cookie_key not in request.COOKIES:
            return None
        try:
            basket_id = Signer().unsign(request.COOKIES[cookie_key])
            basket = Basket.objects.annotate(has_vouchers=_has_vouchers()).get(
                pk=basket_id, owner=None, status=Basket.OPEN
            )
        except (BadSignature, Basket.DoesNotExist):
            request.cookies_to_delete.append(cookie_key)
            return None
        basket.vouchers_none = not basket.has_vouchers
        return basket
