"""Oscar's product page, with what it reads loaded with the product and no database write
(bench/README.md, "pages_at_size.py"). Oscar's own view read the product's images twice,
its stock records three times and its attribute values twice, one query each time, and
its analytics receiver wrote one to three rows per view."""

from oscar.apps.catalogue import views as oscar_views
from oscar.core.loading import get_class, get_model

from .product_views import product_view_record

Product = get_model("catalogue", "Product")
CustomerHistoryManager = get_class("customer.history", "CustomerHistoryManager")


class ProductDetailView(oscar_views.ProductDetailView):
    def get_queryset(self):
        # Oscar's base_queryset: the class, its options, variants, stock records, images;
        # and the attribute values the page's table and its JSON-LD brand read.
        return Product.objects.base_queryset().select_related("parent").prefetch_attribute_values()

    def send_signal(self, request, response, product):
        """What Oscar's two `product_viewed` receivers do: the recently viewed cookie
        (customer app), and the view counted for the analytics tables, written in batches
        (shop/catalogue/product_views.py) instead of by the analytics app in the request."""
        CustomerHistoryManager.update(product, request, response)
        user_id = request.user.pk if request.user.is_authenticated else None
        product_view_record(product_id=product.pk, user_id=user_id)
