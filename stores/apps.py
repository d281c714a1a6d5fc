from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    """Physical stores (1:1 with Oscar partners), opening hours, pickup slots and pickups."""

    name = "stores"
    verbose_name = _("Stores")
