import oscar.apps.checkout.apps as apps
from django.urls import path
from oscar.core.loading import get_class


class CheckoutConfig(apps.CheckoutConfig):
    """Oscar's checkout with a first step choosing collect in store or home delivery,
    click & collect steps (a store, then a slot there), a choice of payment
    method, and the card pay page of an order awaiting payment (shop.payment.views)."""

    name = "shop.checkout"

    def ready(self):
        super().ready()
        self.delivery_view = get_class("checkout.views", "DeliveryChoiceView")
        self.pickup_view = get_class("checkout.views", "PickupStoreView")
        self.pickup_slot_view = get_class("checkout.views", "PickupSlotView")
        self.pay_view = get_class("payment.views", "PayView")
        self.pay_return_view = get_class("payment.views", "PayReturnView")
        self.pay_cancel_view = get_class("payment.views", "PayCancelView")

    def get_urls(self):
        urls = super().get_urls()
        urls[1:1] = [
            path("delivery/", self.delivery_view.as_view(), name="delivery"),
            path("pickup/", self.pickup_view.as_view(), name="pickup"),
            path("pickup/<slug:slug>/", self.pickup_slot_view.as_view(), name="pickup-store"),
        ]
        urls += [
            path("pay/<str:order_number>/", self.pay_view.as_view(), name="pay"),
            path(
                "pay/<str:order_number>/return/",
                self.pay_return_view.as_view(),
                name="pay-return",
            ),
            path(
                "pay/<str:order_number>/cancel/",
                self.pay_cancel_view.as_view(),
                name="pay-cancel",
            ),
        ]
        return urls
