"""Oscar's product page, with what it reads loaded with the product, its shared parts
from the cache and no database write (bench/README.md, "pages_at_size.py"). Oscar's own
view read the product's images twice, its stock records three times and its attribute
values twice, one query each time, rendered everything on every view, and its analytics
receiver wrote one to three rows per view."""

from django.utils.functional import SimpleLazyObject
from oscar.apps.catalogue import views as oscar_views
from oscar.core.loading import get_class, get_model

from .product_page import product_cached, product_page
from .product_views import product_view_record

Product = get_model("catalogue", "Product")
CustomerHistoryManager = get_class("customer.history", "CustomerHistoryManager")


class ProductDetailView(oscar_views.ProductDetailView):
    def get_queryset(self):
        # What every view renders: the class, the parent (a variant's URL and title), the
        # stock records (Oscar's strategy, for the "Add to basket" form), and whether the
        # product has options (Oscar's annotations). What the shared parts read is fetched
        # only when they are not cached (shop/catalogue/product_page.py).
        return (
            Product.objects.base_queryset()
            .prefetch_related(None)
            .prefetch_related("stockrecords")
            .select_related("parent")
        )

    def get_alert_status(self):
        # Oscar's, read only if the template asks: it does where the stock alert form
        # stands, on a product that cannot be bought.
        return SimpleLazyObject(super().get_alert_status)

    def get_object(self, queryset=None):
        # Oscar's, from the cache under the product's card version (product_page.py).
        if not hasattr(self, "object"):
            self.object, self.versions = product_cached(
                int(self.kwargs["pk"]), lambda: super(ProductDetailView, self).get_object(queryset)
            )
        return self.object

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["product_page"] = product_page(self.request, self.object, self.versions)
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        # The parts rendered for this page are cached once it is rendered.
        response.add_post_render_callback(context["product_page"].store)
        return response

    def send_signal(self, request, response, product):
        """What Oscar's two `product_viewed` receivers do: the recently viewed cookie
        (customer app), and the view counted for the analytics tables, written in batches
        (shop/catalogue/product_views.py) instead of by the analytics app in the request."""
        CustomerHistoryManager.update(product, request, response)
        user_id = request.user.pk if request.user.is_authenticated else None
        product_view_record(product_id=product.pk, user_id=user_id)
