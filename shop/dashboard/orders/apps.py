from oscar.apps.dashboard.orders import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class OrdersDashboardConfig(LeastPrivilegeMixin, oscar_apps.OrdersDashboardConfig):
    """Orders: support and superusers only; store staff see their store's orders in its
    pickup queue (stores/dashboard).

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.orders"

    permission_overrides = {
        # Oscar lets a viewer change the delivery address.
        "order-shipping-address": ["is_staff", "order.view_order", "order.change_order"],
    }
