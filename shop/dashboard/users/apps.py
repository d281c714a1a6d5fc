from oscar.apps.dashboard.users import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class UsersDashboardConfig(LeastPrivilegeMixin, oscar_apps.UsersDashboardConfig):
    """Customers: support and superusers.

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.users"

    permission_overrides = {
        # The list also (de)activates accounts by POST.
        "users-index": ["is_staff", "auth.view_user", "auth.change_user"],
    }
