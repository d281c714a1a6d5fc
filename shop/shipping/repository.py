from oscar.apps.shipping import repository

from .methods import ClickAndCollect, HomeDelivery


class Repository(repository.Repository):
    """Home delivery, and click & collect while no delivery address has been given.

    Entering an address means the shopper chose delivery, so only home
    delivery is offered then (and Oscar skips the method page). Click &
    collect is chosen from its own checkout step (checkout:pickup).
    """

    def get_available_shipping_methods(self, basket, shipping_addr=None, **kwargs):
        if shipping_addr is not None:
            return [HomeDelivery()]
        return [HomeDelivery(), ClickAndCollect()]
