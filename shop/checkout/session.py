from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from oscar.apps.checkout import exceptions
from oscar.apps.checkout import session as oscar_session

from shop.payment.methods import PaymentMethod, methods_available
from shop.shipping.methods import ClickAndCollect

from .pickup import PickupChoice, pickup_choice_get
from .utils import CheckoutSessionData


class CheckoutSessionMixin(oscar_session.CheckoutSessionMixin):
    """Oscar's checkout session, where click & collect stands in for the shipping address."""

    # Oscar's middleware adds the basket (and its strategy) to the request.
    request: Any
    # shop/checkout/utils.py, the class Oscar's dispatch() creates.
    checkout_session: CheckoutSessionData

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
        if not self.checkout_session.is_shipping_address_set():
            # Nothing chosen yet: the first step offers collect in store or delivery.
            raise exceptions.FailedPreCondition(
                url=reverse("checkout:delivery"),
                message=_("Please choose how you want to get your order"),
            )
        super().check_a_valid_shipping_address_is_captured()

    # --- Payment method (chosen on the payment-method step) ------------------------------

    def get_payment_methods(self) -> list[PaymentMethod]:
        return methods_available(pickup=self.is_pickup())

    def get_payment_method(self) -> PaymentMethod | None:
        """The chosen method if it is still offered, or the only one offered."""
        methods = self.get_payment_methods()
        chosen = self.checkout_session.payment_method()
        match = next((m for m in methods if m.code == chosen), None)
        if match is None and len(methods) == 1:
            match = methods[0]
        return match

    def check_payment_method_is_chosen(self, request=None):
        if not self.get_payment_methods():
            # The first step, where click & collect is offered: the shipping-method step
            # skips itself once an address gives home delivery only (a redirect loop).
            raise exceptions.FailedPreCondition(
                url=reverse("checkout:delivery"),
                message=_(
                    "Card payment is not available in this shop yet: choose click & collect "
                    "and pay when you pick up your order."
                ),
            )
        if self.get_payment_method() is None:
            raise exceptions.FailedPreCondition(
                url=reverse("checkout:payment-method"),
                message=_("Please choose how you want to pay"),
            )

    def get_shipping_address(self, basket):
        if self.is_pickup():
            return None
        return super().get_shipping_address(basket)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["pickup"] = self.get_pickup_choice()
        # Which way the step bar names its first step (oscar/checkout/nav.html).
        if self.is_pickup():
            ctx["checkout_flow"] = "pickup"
        elif self.checkout_session.is_shipping_address_set():
            ctx["checkout_flow"] = "delivery"
        ctx["payment_method"] = self.get_payment_method()
        ctx["payment_methods_count"] = len(self.get_payment_methods())
        return ctx
