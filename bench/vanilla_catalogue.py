"""Plain Oscar's product view on the vanilla side of the benchmarks (bench/settings_vanilla.py).

The catalogue app stays ours (its migrations add the French columns the data needs), but
its product page is Oscar's own view, not shop.catalogue.views'."""

from shop.catalogue.apps import CatalogueConfig


class VanillaCatalogueConfig(CatalogueConfig):
    def ready(self):
        super().ready()
        from oscar.apps.catalogue import views as oscar_views

        self.detail_view = oscar_views.ProductDetailView
