"""The storefront's own pages (everything else is Oscar's)."""

from django.views.generic import TemplateView
from oscar.core.loading import get_model

from shop.catalogue.cards import cards_html

FEATURED_PRODUCTS = 8


class HomeView(TemplateView):
    """Hero, top-level categories as tiles and the newest products, in a fixed number of queries.

    The category tiles come from Oscar's `category_tree` tag (one query, URLs included);
    the newest products are one query of ids, their cards come from the cache
    (shop.catalogue.cards; bench/README.md, "home.py").
    """

    template_name = "shop/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        product = get_model("catalogue", "Product")
        context["featured_ids"] = list(
            product.objects.browsable()
            .order_by("-date_created", "-pk")
            .values_list("pk", flat=True)[:FEATURED_PRODUCTS]
        )
        # The first cards are above the fold on a phone: their images load eagerly.
        context["featured_cards"] = cards_html(self.request, context["featured_ids"], eager=4)
        return context


class CategoriesView(TemplateView):
    """Every category, top level first with its subcategories, one tap each (the tab bar's
    "Categories"). Oscar's `category_tree` tag builds it in one query."""

    template_name = "shop/categories.html"
