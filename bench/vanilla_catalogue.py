"""Plain Oscar's product view on the vanilla side of the benchmarks (bench/settings_vanilla.py).

The catalogue app stays ours (its migrations add the French columns the data needs), but
its product page is Oscar's own view, not shop.catalogue.views', and a basket addition is
written by Oscar's analytics receiver in the request, not counted in Redis."""

from shop.catalogue.apps import CatalogueConfig


class VanillaCatalogueConfig(CatalogueConfig):
    def ready(self):
        super().ready()
        from oscar.apps.catalogue import views as oscar_views

        self.detail_view = oscar_views.ProductDetailView

        from oscar.apps.analytics.receivers import receive_basket_addition
        from oscar.apps.basket.signals import basket_addition

        basket_addition.disconnect(dispatch_uid="catalogue-basket-addition-count")
        basket_addition.connect(receive_basket_addition)
