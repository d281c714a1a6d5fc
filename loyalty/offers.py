"""A custom Oscar offer condition: the voucher works only in its owner's basket."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

if TYPE_CHECKING:
    from oscar.apps.offer.models import CountCondition
else:
    # Through the app registry, so Oscar's offer models load in their own order.
    CountCondition = get_model("offer", "CountCondition")


class RedeemedByBasketOwnerCondition(CountCondition):
    """At least `value` products of the range, in the basket of the member who redeemed it.

    Oscar's SINGLE_USE voucher stops a second use; this stops another customer's use.
    """

    _description = _("In the basket of the member who redeemed the reward")

    # Plain strings in the active language: Oscar's str() of a condition returns `name`,
    # and str() must not return a lazy translation (the offer wizard's condition step lists
    # custom conditions by str()).
    @property
    def name(self):
        return str(self._description)

    @property
    def description(self):
        return str(self._description)

    class Meta:
        app_label = "loyalty"
        proxy = True

    def is_satisfied(self, offer, basket):
        from loyalty.models import Redemption

        if not basket.owner_id:
            return False
        owned = Redemption.objects.filter(
            voucher__offers=offer, member__user_id=basket.owner_id
        ).exists()
        return owned and super().is_satisfied(offer, basket)
