from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    """Physical stores (1:1 with Oscar partners), opening hours, pickup slots and pickups."""

    name = "stores"
    verbose_name = _("Stores")

    def ready(self) -> None:
        from .selectors.choice import store_cache_receivers_connect

        # The chosen store is cached; a store or partner saved or deleted drops it.
        store_cache_receivers_connect()
