from oscar.apps.dashboard.partners import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class PartnersDashboardConfig(LeastPrivilegeMixin, oscar_apps.PartnersDashboardConfig):
    """Partners and their users: superusers only.

    Oscar lets anyone with the user permissions link users to partners and set their
    role, `is_staff` included; here every page falls to `default_permissions`
    (superusers). Stores' staff are given in the README's way ("Roles and permissions").
    No models, no migrations.
    """

    name = "shop.dashboard.partners"

    def configure_permissions(self) -> None:
        self.permissions_map = {}
