from django.utils.translation import gettext_lazy as _
from oscar.apps.shipping.methods import *  # noqa: F403
from oscar.apps.shipping.methods import Free

from stores.constants import PICKUP_SHIPPING_CODE


class HomeDelivery(Free):
    code = "home-delivery"
    name = _("Home delivery (free)")


class ClickAndCollect(Free):
    """Collected in a store: needs no address; the store and slot are chosen at checkout."""

    code = PICKUP_SHIPPING_CODE
    name = _("Click & collect (free)")
