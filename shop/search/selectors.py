"""Product listings and search, straight from the catalogue tables.

One query for the page of products (plus one COUNT for pagination) and a fixed
number of prefetches (stock records, images, options, children), whatever the
page size: no per-product queries.
"""

from django.db import connection
from django.db.models import F, Min, Q, QuerySet, TextField, Value
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


def products_browsable() -> QuerySet:
    """Public, canonical products with everything a product card needs prefetched."""
    return (
        Product.objects.browsable()
        .base_queryset()
        .annotate(min_price=Min("stockrecords__price"), shown_title=shown_text("title"))
        .prefetch_related("children__stockrecords")
    )


def _text_search(queryset: QuerySet, query: str) -> QuerySet:
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        config = SEARCH_CONFIGS.get(translation.get_language() or "en", "simple")
        vector = (
            SearchVector("shown_title", weight="A", config=config)
            + SearchVector("upc", weight="A", config="simple")
            + SearchVector(shown_text("description"), weight="B", config=config)
        )
        search_query = SearchQuery(query, search_type="websearch", config=config)
        # Full-text matches, plus titles containing what was typed so far
        # ("choc" finds "Chocolate") which stemming alone would miss.
        return queryset.annotate(document=vector, rank=SearchRank(vector, search_query)).filter(
            Q(document=search_query) | Q(shown_title__icontains=query)
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
