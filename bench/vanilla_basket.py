"""Plain Oscar's basket on the vanilla side of the benchmarks (bench/settings_vanilla.py).

The basket app stays the shop's (its URL rate limits), but its page and add view are
Oscar's own, not shop/basket_page.py's and shop/basket_add.py's, and the basket middleware is
Oscar's, not shop/basket_load.py's."""

from shop.security.apps import BasketConfig


class VanillaBasketConfig(BasketConfig):
    def ready(self):
        super().ready()
        from oscar.apps.basket import views as oscar_views

        self.summary_view = oscar_views.BasketView
        self.add_view = oscar_views.BasketAddView
