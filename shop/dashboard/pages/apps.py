from oscar.apps.dashboard.pages import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class PagesDashboardConfig(LeastPrivilegeMixin, oscar_apps.PagesDashboardConfig):
    """Flat pages: marketers and superusers.

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.pages"
