from oscar.apps.dashboard.catalogue import apps as oscar_apps


class CatalogueDashboardConfig(oscar_apps.CatalogueDashboardConfig):
    """Oscar's catalogue dashboard, forked only to validate stock edits (forms.py)."""

    name = "shop.dashboard.catalogue"
