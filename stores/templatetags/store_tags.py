"""Store blocks for Oscar pages: product stock per store, and an order's pickup."""

from typing import Any

import segno
from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from stores.links import pickup_link_url
from stores.models import Pickup
from stores.places import place_lookup
from stores.presenters import json_for_script, schema_org_product
from stores.selectors import (
    OrderAmounts,
    chosen_store_for_request,
    order_amounts,
    store_offer_records,
    stores_near,
    works_in_stores,
)
from stores.services import ACTIVE, pickup_arrival_opens, pickup_qr_payload
from stores.sharing import FRIEND_NAME_MAX, friend_note, shared_pass_active, shared_pass_url

register = template.Library()

NEARBY_LIMIT = 3
# With no store chosen, "nearest" is measured from the city centre.
DEFAULT_PLACE = "Strasbourg"


@register.inclusion_tag("stores/partials/product_stores.html")
def product_stores(request: HttpRequest, product: Any) -> dict[str, Any]:
    # The pricing strategy has usually read it already for this request.
    mine = chosen_store_for_request(request)
    if mine is not None:
        lat, lng = mine.latitude, mine.longitude
    else:
        place = place_lookup(query=DEFAULT_PLACE)
        assert place is not None, "DEFAULT_PLACE is one of stores/data's places"
        lat, lng = place.latitude, place.longitude
    nearby = stores_near(lat=lat, lng=lng, limit=NEARBY_LIMIT + 1, product=product)
    mine_units = next((n.stock for n in nearby if mine and n.store.pk == mine.pk), None)
    if mine is not None and mine_units is None:
        # Not among the nearest with stock: it has none free.
        mine_units = 0
    return {
        "my_store": mine,
        "my_units": mine_units,
        "nearby": [n for n in nearby if mine is None or n.store.pk != mine.pk][:NEARBY_LIMIT],
        "from_my_store": mine is not None,
    }


@register.simple_tag
def pickup_link(order: Any) -> str:
    """The signed link to the order's pickup status page (guests have no order page)."""
    return pickup_link_url(order_number=order.number)


def qr_svg(payload: str) -> str:
    """A pickup QR code (the buyer's or a friend's pass) as inline SVG."""
    qr = segno.make(payload, error="m")
    # segno escapes the title and writes only its own markup.
    return mark_safe(qr.svg_inline(scale=5, title=_("Pickup QR code")))  # noqa: S308


def _qr_svg(pickup: Pickup) -> str:
    return qr_svg(pickup_qr_payload(pickup=pickup))


@register.simple_tag
def pickup_qr(pickup: Pickup) -> str:
    """The pickup's QR code as inline SVG (what staff scan at hand-over)."""
    return _qr_svg(pickup)


@register.simple_tag
def amounts_of(order: Any) -> OrderAmounts:
    """`{% amounts_of order as amounts %}`: total, points part and what is left to pay."""
    return order_amounts(order=order)


@register.inclusion_tag("stores/partials/order_amounts.html")
def order_payment(order: Any) -> dict[str, Any]:
    """What the order costs, what points and money paid, and what is left to pay."""
    return {"amounts": order_amounts(order=order)}


@register.inclusion_tag("stores/partials/order_pickup.html")
def order_pickup(order: Any, here_url: str = "") -> dict[str, Any]:
    """The pickup block of an order page: store, slot, code, QR and "I'm here".

    "I'm here" posts to `here_url` when given (the signed status page), else to the
    signed-in customer's own endpoint.
    """
    pickup = Pickup.objects.select_related("store", "slot", "order").filter(order=order).first()
    if pickup is None:
        return {"pickup": None}
    is_active = pickup.status in ACTIVE
    now = timezone.now()
    opens = pickup_arrival_opens(pickup=pickup, now=now) if is_active else None
    return {
        # Before the arrival window (or the store's opening), say from when "I'm here" works.
        "arrival_from": opens if opens is not None and opens > now else None,
        "pickup": pickup,
        "qr_svg": _qr_svg(pickup),
        "is_active": is_active,
        "here_url": here_url
        or reverse("stores:pickup-here", kwargs={"number": pickup.order.number}),
    }


@register.inclusion_tag("stores/partials/pickup_sharing.html", takes_context=True)
def pickup_sharing(context: template.Context, order: Any) -> dict[str, Any]:
    """The buyer's "Let a friend collect" block on their order page (stores.sharing).

    Empty for anyone but the signed-in buyer, for orders not collected in a store, and
    for a closed pickup that no friend collected.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    pickup = Pickup.objects.select_related("order").filter(order=order).first()
    if request is None or pickup is None or user is None or not user.is_authenticated:
        return {"pickup": None}
    if pickup.order.user_id != user.pk:
        return {"pickup": None}
    shared = shared_pass_active(pickup=pickup)
    url = request.build_absolute_uri(shared_pass_url(shared=shared)) if shared else ""
    return {
        "pickup": pickup,
        "is_active": pickup.status in ACTIVE,
        "shared": shared,
        "share_url": url,
        "friend_name_max": FRIEND_NAME_MAX,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def friend_collects(pickup: Pickup) -> str:
    """What staff see about a friend collecting the pickup, or "" (stores.sharing)."""
    return friend_note(pickup=pickup)


# The store pages' tabs show the queue and hours only to those who may open them.
register.filter("works_in_stores", works_in_stores)


def _brand(product: Any) -> str:
    """The value of the product's attribute coded "brand" (a parent's for a child), or ""."""
    values = product.get_attribute_values()
    if isinstance(values, list):  # prefetched by Oscar's prefetch_attribute_values
        found = next((v for v in values if v.attribute.code == "brand"), None)
    else:
        found = values.filter(attribute__code="brand").select_related("attribute").first()
    return found.value_as_text if found is not None else ""


def _jsonld(product: Any) -> str:
    brand = _brand(product)
    images = [image.original.url for image in product.get_all_images() if image.original]
    data = schema_org_product(
        product,
        records=store_offer_records(product=product),
        image_urls=images,
        brand=brand,
    )
    return json_for_script(data)


@register.simple_tag
def product_jsonld(request: HttpRequest, product: Any, page: Any = None) -> str:
    """The product's schema.org JSON-LD (README "Open data for local search") in a data
    block carrying the response's CSP nonce, escaped as Django's json_script does.

    Three queries whatever the number of stores: the stores' stock records with their
    stores, the images, the brand. None when the product page's cached parts (`page`, the
    shop's ProductPage: its `part(name, render)`) have the data; the nonce is the
    response's own either way.
    """
    data = page.part("jsonld", lambda: _jsonld(product)) if page else _jsonld(product)
    return format_html(
        '<script type="application/ld+json" nonce="{}">{}</script>',
        getattr(request, "csp_nonce", ""),
        mark_safe(data),  # noqa: S308 (json_for_script escapes <, >, &)
    )
