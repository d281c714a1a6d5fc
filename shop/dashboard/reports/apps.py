from oscar.apps.dashboard.reports import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class ReportsDashboardConfig(LeastPrivilegeMixin, oscar_apps.ReportsDashboardConfig):
    """Reports: superusers (analytics.view_userrecord is in no role).

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.reports"
