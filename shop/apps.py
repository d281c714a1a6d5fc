from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    """The storefront layer: templates, static files, demo data and health checks."""

    name = "shop"
    label = "shop"
    verbose_name = _("Storefront")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # After the sites app's own post_migrate (which creates example.com).
        post_migrate.connect(_site_sync_after_migrate, dispatch_uid="shop-site-sync")


def _site_sync_after_migrate(sender, using, **kwargs) -> None:
    if sender.label != "sites":
        return
    from .sites import site_sync

    site_sync(using=using)
