import oscar.apps.shipping.apps as apps


class ShippingConfig(apps.ShippingConfig):
    """Oscar's shipping app with home delivery and click & collect (see repository)."""

    name = "shop.shipping"
