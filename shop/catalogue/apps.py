import oscar.apps.catalogue.apps as apps
from django.db.models.signals import pre_save


class CatalogueConfig(apps.CatalogueConfig):
    """Oscar's catalogue, forked only so that the migrations adding the French columns of
    product titles, descriptions and category names (translation.py, README "Languages")
    belong to the project. Oscar's models are used unchanged."""

    name = "shop.catalogue"

    def ready(self):
        super().ready()
        from oscar.apps.analytics.receivers import receive_basket_addition
        from oscar.apps.basket.signals import basket_addition

        from .cards import receivers_connect
        from .product_page import receivers_connect as page_receivers_connect
        from .product_views import basket_addition_receive
        from .translation import TRANSLATED_FIELDS, original_columns_keep_english

        # Cached product cards are retired when what they show changes.
        receivers_connect()
        page_receivers_connect()

        # Basket additions are counted in Redis and written by the beat task, not by
        # Oscar's analytics receiver in the request (product_views.py).
        basket_addition.disconnect(receive_basket_addition)
        basket_addition.connect(
            basket_addition_receive, dispatch_uid="catalogue-basket-addition-count"
        )

        for model in TRANSLATED_FIELDS:
            pre_save.connect(
                original_columns_keep_english,
                sender=model,
                dispatch_uid=f"catalogue-english-{model._meta.model_name}",
            )
