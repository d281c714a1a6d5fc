from oscar.apps.dashboard.catalogue import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class CatalogueDashboardConfig(LeastPrivilegeMixin, oscar_apps.CatalogueDashboardConfig):
    """Oscar's catalogue dashboard for catalogue managers (and superusers) only: store staff
    no longer edit products (shop/dashboard/access.py). Forked to validate stock edits
    (forms.py)."""

    name = "shop.dashboard.catalogue"
