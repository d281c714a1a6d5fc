from oscar.apps.dashboard.shipping import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class ShippingDashboardConfig(LeastPrivilegeMixin, oscar_apps.ShippingDashboardConfig):
    """Weight-based shipping methods: superusers (no role holds their permissions).

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.shipping"
