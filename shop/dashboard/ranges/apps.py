from oscar.apps.dashboard.ranges import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class RangesDashboardConfig(LeastPrivilegeMixin, oscar_apps.RangesDashboardConfig):
    """Ranges: marketers and superusers.

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.ranges"
