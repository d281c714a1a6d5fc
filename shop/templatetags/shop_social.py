"""Share buttons and review purchase badges (README "Social")."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

from shop.catalogue.reviews import reviews_with_purchases

register = template.Library()

# UTM tags of a shared link: loyalty's attribution counts landings by campaign slug
# (README "Attribution"); slugs that name no campaign are ignored there.
SHARE_SOURCE = "share"
MEDIUM_WEB_SHARE = "web_share"
MEDIUM_COPY = "copy"


def share_link(request, path: str, *, campaign: str, medium: str) -> str:
    query = urlencode({"utm_source": SHARE_SOURCE, "utm_medium": medium, "utm_campaign": campaign})
    return f"{request.build_absolute_uri(path)}?{query}"


@register.inclusion_tag("shop/partials/share_button.html", takes_context=True)
def share_button(context, path: str, campaign: str, title: str, label: str):
    """A Share button: the Web Share API where the phone has it, else copies the link."""
    request = context["request"]
    return {
        "label": label,
        "title": title,
        "web_share_url": share_link(request, path, campaign=campaign, medium=MEDIUM_WEB_SHARE),
        "copy_url": share_link(request, path, campaign=campaign, medium=MEDIUM_COPY),
    }


@register.simple_tag
def reviews_purchased(product, reviews, limit=None):
    return reviews_with_purchases(product=product, reviews=reviews, limit=limit)
