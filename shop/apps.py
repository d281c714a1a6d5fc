from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    """The storefront layer: templates, static files, demo data and health checks."""

    name = "shop"
    label = "shop"
    verbose_name = _("Storefront")

    def ready(self) -> None:
        from shop.security.roles import roles_sync_after_migrate

        # The staff roles (groups and their permissions) follow the code on every migrate.
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="shop.security.roles")
