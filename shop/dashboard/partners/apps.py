from oscar.apps.dashboard.partners import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class PartnersDashboardConfig(LeastPrivilegeMixin, oscar_apps.PartnersDashboardConfig):
    """Partners and their users: superusers (no role holds partner.view_partner).

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.partners"
