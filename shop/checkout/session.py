from django.urls import reverse
from django.utils.translation import gettext as _
from oscar.apps.checkout import exceptions
from oscar.apps.checkout import session as oscar_session

from shop.shipping.methods import ClickAndCollect

from .pickup import PickupChoice, pickup_choice_get


class CheckoutSessionMixin(oscar_session.CheckoutSessionMixin):
    """Oscar's checkout session, where click & collect stands in for the shipping address."""

    def is_pickup(self) -> bool:
        return (
            self.checkout_session.shipping_method_code(self.request.basket) == ClickAndCollect.code
        )

    def get_pickup_choice(self) -> PickupChoice | None:
        if not hasattr(self, "_pickup_choice"):
            self._pickup_choice = (
                pickup_choice_get(checkout_session=self.checkout_session)
                if self.is_pickup()
                else None
            )
        return self._pickup_choice

    def check_a_valid_shipping_address_is_captured(self):
        if self.is_pickup():
            if self.get_pickup_choice() is None:
                raise exceptions.FailedPreCondition(
                    url=reverse("checkout:pickup"),
                    message=_("Please choose a store and a pickup time"),
                )
            return
        super().check_a_valid_shipping_address_is_captured()

    def get_shipping_address(self, basket):
        if self.is_pickup():
            return None
        return super().get_shipping_address(basket)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["pickup"] = self.get_pickup_choice()
        return ctx
