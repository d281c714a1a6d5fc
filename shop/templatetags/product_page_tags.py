"""What the product page renders per request next to its cached parts
(shop/catalogue/product_page.py)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Exists, OuterRef
from django.utils.safestring import SafeString
from oscar.core.loading import get_class, get_model

from shop.catalogue.cards import cards_html
from shop.catalogue.product_page import PARTS, ProductPage, recommended_ids

register = template.Library()
RECENTLY_VIEWED_SHOWN = 6
CustomerHistoryManager = get_class("customer.history", "CustomerHistoryManager")


class PagePartNode(template.Node):
    def __init__(self, name: str, nodelist: template.NodeList):
        self.name = name
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        page = context.get("product_page")
        if not isinstance(page, ProductPage):  # a page extending the product page's template
            return self.nodelist.render(context)
        return page.part(self.name, lambda: self.nodelist.render(context))


@register.tag("page_part")
def page_part(parser: template.base.Parser, token: template.base.Token) -> PagePartNode:
    """`{% page_part "name" %}...{% endpage_part %}`: a part of the product page that is the
    same for every shopper of a store and language, from the cache
    (shop/catalogue/product_page.py). Rendered as it is on pages without `product_page`."""
    bits = token.split_contents()
    name = bits[1].strip("\"'") if len(bits) == 2 else ""
    if name not in PARTS:
        raise template.TemplateSyntaxError(f"page_part takes one of {PARTS}, not {bits[1:]}")
    nodelist = parser.parse(("endpage_part",))
    parser.delete_first_token()
    return PagePartNode(name, nodelist)


@register.simple_tag(takes_context=True)
def approved_reviews(context: template.Context, product: Any) -> int:
    """The product's number of approved reviews, cached with the page's parts when the page
    has them (`product_page`), else counted."""
    page = context.get("product_page")
    return page.reviews if isinstance(page, ProductPage) else product.num_approved_reviews


@register.simple_tag(takes_context=True)
def recommended_cards(context: Any, product: Any) -> list[SafeString]:
    """The cards of the products the catalogue managers recommend with `product`, in their
    ranking: their ids cached with the page's parts when the page has them
    (`product_page`), the cards from the card cache, so a recommended product's stock or
    price shows as its own card does."""
    page = context.get("product_page")
    ids = page.recommended if isinstance(page, ProductPage) else recommended_ids(product)
    return cards_html(context["request"], ids)


@register.simple_tag(takes_context=True)
def recently_viewed_cards(context: Any, current: Any = None) -> list[SafeString]:
    """The cards of the products in the shopper's "recently viewed" cookie, newest first,
    but `current` (Oscar's `recently_viewed_products` fetched them all, the current one
    included, and rendered each card): from the card cache, no query while they are there."""
    newest_first = reversed(CustomerHistoryManager.extract(context["request"]))
    # The cookie is the browser's: anything but product ids in it is ignored.
    ids = [pk for pk in newest_first if type(pk) is int and (current is None or pk != current.pk)]
    shown = list(dict.fromkeys(ids))[:RECENTLY_VIEWED_SHOWN]
    return cards_html(context["request"], shown)


@register.simple_tag
def wishlists_for_product(user: Any, product: Any) -> list[Any]:
    """The user's wish lists, each with `has_product`: whether it holds `product`. One
    query (Oscar's partial read the lists, then those holding the product)."""
    line = get_model("wishlists", "Line")
    holds = line.objects.filter(wishlist=OuterRef("pk"), product=product)
    return list(user.wishlists.annotate(has_product=Exists(holds)))
