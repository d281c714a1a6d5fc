from oscar.apps.dashboard.reviews import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class ReviewsDashboardConfig(LeastPrivilegeMixin, oscar_apps.ReviewsDashboardConfig):
    """Review moderation: catalogue managers and superusers.

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.reviews"
