import oscar.apps.partner.apps as apps


class PartnerConfig(apps.PartnerConfig):
    """Oscar's partner app with a store-aware strategy and a stock guard (see models, strategy)."""

    name = "shop.partner"
