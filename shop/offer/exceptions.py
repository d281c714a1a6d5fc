"""Why an order cannot keep a discount the shopper saw: the checkout shows the message,
re-prices the basket and places nothing (Oscar's UnableToPlaceOrder)."""

from django.utils.translation import gettext as _
from oscar.apps.order.exceptions import UnableToPlaceOrder


class OfferUnavailable(UnableToPlaceOrder):
    """An offer reached its limit (or ended) between pricing and placing the order."""

    def __init__(self, offer):
        self.offer = offer
        super().__init__(
            _(
                "The offer “%(offer)s” has just reached its limit, so it no longer applies. "
                "Your basket has been re-priced: please check the total and place your "
                "order again."
            )
            % {"offer": offer.name}
        )


class VoucherUnavailable(UnableToPlaceOrder):
    """A voucher in the basket can no longer be used (e.g. a single-use one just was)."""

    def __init__(self, voucher, reason: str):
        self.voucher = voucher
        super().__init__(
            _(
                "%(reason)s (%(code)s): it was removed from your basket, which has been "
                "re-priced. Please check the total and place your order again."
            )
            % {"code": voucher.code, "reason": reason}
        )
