"""The one allow-list of HTML that catalogue descriptions may carry (README, "Catalogue content").

Descriptions of products and categories are written by catalogue managers in the
dashboard's rich-text editor, or imported. Whatever the source, only these tags reach
the page: no scripts, no event-handler attributes, no `javascript:` or `data:` links,
and every link gets rel="noopener nofollow". The dashboard forms clean on save
(shop/dashboard/catalogue/forms.py) and the storefront templates clean again on
output (the `sanitized` filter, shop/templatetags/shop_html.py), so rows written
another way are safe too.
"""

import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h3", "h4", "blockquote"}
)
ALLOWED_ATTRIBUTES = {"a": frozenset({"href", "title"})}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener nofollow"


def rich_text_clean(html: str | None) -> str:
    """`html` reduced to the allow-list; tags outside it are dropped, their text kept
    (except the content of <script> and <style>, dropped whole)."""
    if not html:
        return ""
    return nh3.clean(
        str(html),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
