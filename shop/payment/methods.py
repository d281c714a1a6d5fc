"""The ways a shopper can pay, and which are offered for a given checkout.

- card: Stripe (PaymentIntent + Payment Element), offered when Stripe keys are set;
- pay at pickup: click & collect only, settled by staff at handover;
- test payment: local demos without Stripe keys only (PAYMENT_TEST_METHOD), clearly
  labelled; production settings refuse it.
Loyalty points are not a method: they pay part of the order on top of any of these.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import gateway
from .constants import (
    AT_PICKUP_SOURCE_NAME,
    AT_PICKUP_SOURCE_TYPE,
    CARD_SOURCE_NAME,
    CARD_SOURCE_TYPE,
    TEST_SOURCE_NAME,
    TEST_SOURCE_TYPE,
)


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    name: str | Promise
    help: str | Promise
    # Oscar payment source type recorded on the order.
    source_code: str
    source_name: str

    # For templates, which cannot import CARD and AT_PICKUP to compare with.
    @property
    def is_card(self) -> bool:
        return self.code == CARD.code

    @property
    def is_at_pickup(self) -> bool:
        return self.code == AT_PICKUP.code


CARD = PaymentMethod(
    "card",
    _("Card"),
    _("Pay now by card. Your card details go straight to Stripe, never to us."),
    CARD_SOURCE_TYPE,
    CARD_SOURCE_NAME,
)
AT_PICKUP = PaymentMethod(
    "pay-at-pickup",
    _("Pay at pickup"),
    _("Pay in the store when you collect your order."),
    AT_PICKUP_SOURCE_TYPE,
    AT_PICKUP_SOURCE_NAME,
)
TEST = PaymentMethod(
    "test",
    _("Test payment (demo shop, no money moves)"),
    _("This demo has no card payments set up; this stands in for a card."),
    TEST_SOURCE_TYPE,
    TEST_SOURCE_NAME,
)
ALL = {method.code: method for method in (CARD, AT_PICKUP, TEST)}


def methods_available(*, pickup: bool) -> list[PaymentMethod]:
    methods = []
    if gateway.enabled():
        methods.append(CARD)
    if pickup:
        methods.append(AT_PICKUP)
    if settings.PAYMENT_TEST_METHOD and not gateway.enabled():
        methods.append(TEST)
    return methods
