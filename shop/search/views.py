"""Database-backed replacements for Oscar's Haystack views (same URLs and names)."""

from urllib.parse import unquote

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import ListView
from oscar.apps.search.signals import user_search
from oscar.core.loading import get_model

from shop.catalogue.cards import cards_html

from .forms import ProductSearchForm
from .selectors import products_search

Category = get_model("catalogue", "Category")


class ProductListView(ListView):
    context_object_name = "products"
    paginate_by = settings.OSCAR_PRODUCTS_PER_PAGE
    form_class = ProductSearchForm

    def get(self, request, *args, **kwargs):
        self.form = self.form_class(request.GET or None)
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            messages.error(request, _("The given page number was invalid."))
            return redirect(self.first_page_url())

    def first_page_url(self) -> str:
        params = self.request.GET.copy()
        params.pop("page", None)
        return f"{self.request.path}?{params.urlencode()}" if params else self.request.path

    def get_categories(self):
        return None

    def get_queryset(self):
        return products_search(
            query=self.form.query, sort=self.form.sort, categories=self.get_categories()
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = self.form
        context["search_form"] = self.form
        context["query"] = self.form.query
        context["query_shortened"] = self.form.is_valid() and self.form.query_shortened
        # Oscar's templates call the page both `page` and `page_obj`.
        context["page"] = context["page_obj"]
        # The cards from the cache (shop/catalogue/cards.py); the first four, above the fold
        # on a phone, load their images eagerly.
        context["cards"] = cards_html(
            self.request, [product.pk for product in context["object_list"]], eager=4
        )
        return context


class CatalogueView(ProductListView):
    """Browse all products."""

    template_name = "oscar/catalogue/browse.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = _("All products")
        return context


class ProductCategoryView(ProductListView):
    """Browse the products of a category and its descendants."""

    template_name = "oscar/catalogue/category.html"
    enforce_paths = True

    def get(self, request, *args, **kwargs):
        self.category = get_object_or_404(Category, pk=self.kwargs["pk"])
        if not (self.category.is_public or request.user.is_staff):
            raise Http404()
        expected_path = self.category.get_absolute_url()
        if self.enforce_paths and unquote(expected_path) != unquote(request.path):
            return HttpResponsePermanentRedirect(expected_path)
        return super().get(request, *args, **kwargs)

    def get_categories(self):
        return self.category.get_descendants_and_self()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["category"] = self.category
        context["summary"] = self.category.name
        return context


class FacetedSearchView(ProductListView):
    """Full-text product search (PostgreSQL text search; word matching on SQLite)."""

    template_name = "oscar/search/results.html"
    context_object_name = "results"

    def dispatch(self, request, *args, **kwargs):
        # Oscar's analytics store the query in 255 characters: record it as searched (cut
        # to MAX_QUERY_LENGTH), not as typed, or a pasted paragraph is a database error.
        user_search.send(
            sender=self,
            session=request.session,
            user=request.user,
            query=self.form_class(request.GET or None).query,
        )
        return super().dispatch(request, *args, **kwargs)
