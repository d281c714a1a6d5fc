from oscar.apps.dashboard.communications import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class CommunicationsDashboardConfig(LeastPrivilegeMixin, oscar_apps.CommunicationsDashboardConfig):
    """Email templates: marketers and superusers.

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.communications"
