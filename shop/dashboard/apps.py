from oscar.apps.dashboard import apps as oscar_apps


class DashboardConfig(oscar_apps.DashboardConfig):
    """Oscar's dashboard, forked only because Oscar loads a dashboard sub-app's classes
    (here catalogue's StockRecordForm) through the parent app's module path."""

    name = "shop.dashboard"
