from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.partner.exceptions import *  # noqa: F403


class InsufficientStock(UnableToPlaceOrder):
    """An allocation asked for more than the stock record has free; nothing was changed.

    A subclass of UnableToPlaceOrder so that Oscar's checkout rolls the order
    back, restores the basket and shows the message.
    """
