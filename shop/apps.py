from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    """The storefront layer: templates, static files, demo data and health checks."""

    name = "shop"
    label = "shop"
    verbose_name = _("Storefront")
