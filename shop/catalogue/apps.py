import oscar.apps.catalogue.apps as apps
from django.db.models.signals import pre_save


class CatalogueConfig(apps.CatalogueConfig):
    """Oscar's catalogue, forked only so that the migrations adding the French columns of
    product titles, descriptions and category names (translation.py, README "Languages")
    belong to the project. Oscar's models are used unchanged."""

    name = "shop.catalogue"

    def ready(self):
        super().ready()
        from .cards import receivers_connect
        from .product_page import receivers_connect as page_receivers_connect
        from .translation import TRANSLATED_FIELDS, original_columns_keep_english

        # Cached product cards are retired when what they show changes.
        receivers_connect()
        page_receivers_connect()

        for model in TRANSLATED_FIELDS:
            pre_save.connect(
                original_columns_keep_english,
                sender=model,
                dispatch_uid=f"catalogue-english-{model._meta.model_name}",
            )
