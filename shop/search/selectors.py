"""Product listings and search, straight from the catalogue tables.

One query for the page's products (ids and titles only) plus one COUNT for pagination,
whatever the page size or the catalogue's; the product cards come from the card cache
(shop/catalogue/cards.py). On PostgreSQL, search reads the indexed search documents and
listings the indexed title order of migration catalogue 0034 (bench/README.md,
"pages_at_size.py").
"""

import re

from django.db import connection
from django.db.models import F, Min, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf
from django.utils import translation
from modeltranslation.utils import build_localized_fieldname, resolution_order
from oscar.core.loading import get_model

from .forms import ProductSearchForm

Product = get_model("catalogue", "Product")

# PostgreSQL text search configurations for the shop's languages.
SEARCH_CONFIGS = {"en": "english", "fr": "french"}

SORT_ORDERS = {
    ProductSearchForm.NEWEST: ("-date_created", "-pk"),
    ProductSearchForm.PRICE_LOW_TO_HIGH: ("min_price", "shown_title", "pk"),
    ProductSearchForm.PRICE_HIGH_TO_LOW: ("-min_price", "shown_title", "pk"),
    ProductSearchForm.TITLE_A_TO_Z: ("shown_title", "pk"),
    ProductSearchForm.TITLE_Z_TO_A: ("-shown_title", "-pk"),
}


def shown_text(field: str):
    """The text of a translated catalogue field as the active language shows it: its own
    column, or the fallback's when empty (shop/catalogue/translation.py). Searching and
    sorting use it, so a shopper finds a product by the words on its card."""
    fallback_languages = getattr(Product, field).fallback_languages
    columns = [
        NullIf(F(build_localized_fieldname(field, code)), Value(""), output_field=TextField())
        for code in resolution_order(translation.get_language() or "en", fallback_languages)
    ]
    return Coalesce(*columns, Value(""), output_field=TextField())


# Loaded with a listing's products: what the page itself reads (cards come from the cache).
LISTED_FIELDS = ("id", "slug", "title", "title_en", "title_fr", "upc", "date_created")


def products_browsable() -> QuerySet:
    """Public, canonical products with the title the active language shows."""
    return (
        Product.objects.browsable().only(*LISTED_FIELDS).annotate(shown_title=shown_text("title"))
    )


def _prefix_query(query: str) -> str:
    """Each word typed as a prefix, in to_tsquery's syntax: "choc bar" -> "choc:* & bar:*"."""
    return " & ".join(f"{word}:*" for word in re.findall(r"\w+", query.lower())[:10])


def _text_search(queryset: QuerySet, query: str) -> QuerySet:
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField

        language = translation.get_language() or "en"
        code = language if language in SEARCH_CONFIGS else "en"
        # The column of migration catalogue 0034, unknown to Oscar's model; `code` is one
        # of SEARCH_CONFIGS' keys, never the request's text.
        document = RawSQL(  # noqa: S611
            f'"catalogue_product"."search_{code}"', [], output_field=SearchVectorField()
        )
        search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIGS[code])
        prefixes = _prefix_query(query)
        if prefixes:
            # Plus titles with words starting as typed ("choc" finds "Chocolate"), which
            # stemming alone would miss: the unstemmed title words of the same document.
            search_query |= SearchQuery(prefixes, search_type="raw", config="simple")
        return queryset.annotate(document=document, rank=SearchRank(document, search_query)).filter(
            document=search_query
        )
    # SQLite: every word must appear in the title, UPC or description.
    queryset = queryset.annotate(shown_description=shown_text("description"))
    for term in query.split():
        queryset = queryset.filter(
            Q(shown_title__icontains=term)
            | Q(upc__iexact=term)
            | Q(shown_description__icontains=term)
        )
    return queryset


def products_search(
    *, query: str = "", sort: str = ProductSearchForm.RELEVANCY, categories=None
) -> QuerySet:
    """Browsable products matching `query` within `categories` (a category queryset), sorted."""
    queryset = products_browsable()
    if sort in (ProductSearchForm.PRICE_LOW_TO_HIGH, ProductSearchForm.PRICE_HIGH_TO_LOW):
        queryset = queryset.annotate(min_price=Min("stockrecords__price"))
    if categories is not None:
        queryset = queryset.filter(
            pk__in=Product.objects.filter(categories__in=categories).values("pk")
        )
    if query:
        queryset = _text_search(queryset, query)
    if sort in SORT_ORDERS:
        return queryset.order_by(*SORT_ORDERS[sort])
    if query and connection.vendor == "postgresql":
        return queryset.order_by("-rank", "shown_title", "pk")
    return queryset.order_by("shown_title", "pk")
