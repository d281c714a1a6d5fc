"""The storefront's own pages (everything else is Oscar's)."""

from django.views.generic import TemplateView

from shop.search.selectors import products_browsable

FEATURED_PRODUCTS = 8


class HomeView(TemplateView):
    """Hero, top-level categories as tiles and the newest products, in a fixed number of queries.

    The category tiles come from Oscar's `category_tree` tag (one query, URLs included).
    """

    template_name = "shop/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["featured_products"] = list(
            products_browsable().order_by("-date_created", "-pk")[:FEATURED_PRODUCTS]
        )
        return context


class CategoriesView(TemplateView):
    """Every category, top level first with its subcategories, one tap each (the tab bar's
    "Categories"). Oscar's `category_tree` tag builds it in one query."""

    template_name = "shop/categories.html"
