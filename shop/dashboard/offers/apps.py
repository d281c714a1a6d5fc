from oscar.apps.dashboard.offers import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class OffersDashboardConfig(LeastPrivilegeMixin, oscar_apps.OffersDashboardConfig):
    """Offers: marketers and superusers.

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.offers"
