from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    """The storefront layer: templates, static files, demo data and health checks."""

    name = "shop"
    label = "shop"
    verbose_name = _("Storefront")

    def ready(self) -> None:
        # After the sites app's own post_migrate (which creates example.com).
        post_migrate.connect(_site_sync_after_migrate, dispatch_uid="shop-site-sync")

        from shop.security.roles import roles_sync_after_migrate

        # The staff roles (groups and their permissions) follow the code on every migrate.
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="shop.security.roles")

        from shop.security.dashboard_link import receivers_connect

        # The account menu's cached "Dashboard" link follows permission changes.
        receivers_connect()

        from django.db.models.signals import m2m_changed
        from oscar.core.loading import get_model

        from shop.basket_load import vouchers_changed

        # A basket known to have no voucher reads its vouchers again once given one.
        m2m_changed.connect(
            vouchers_changed,
            sender=get_model("basket", "Basket").vouchers.through,
            dispatch_uid="shop-basket-vouchers-changed",
        )


def _site_sync_after_migrate(sender, using, **kwargs) -> None:
    if sender.label != "sites":
        return
    from .sites import site_sync

    site_sync(using=using)
