from oscar.apps.dashboard.vouchers import apps as oscar_apps

from shop.dashboard.access import LeastPrivilegeMixin


class VouchersDashboardConfig(LeastPrivilegeMixin, oscar_apps.VouchersDashboardConfig):
    """Vouchers and voucher sets: marketers and superusers.

    Least privilege: see shop/dashboard/access.py. No models, no migrations.
    """

    name = "shop.dashboard.vouchers"
