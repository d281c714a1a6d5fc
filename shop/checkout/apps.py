import oscar.apps.checkout.apps as apps
from django.urls import path
from oscar.core.loading import get_class


class CheckoutConfig(apps.CheckoutConfig):
    """Oscar's checkout with a click & collect step (store + slot) and pay at pickup."""

    name = "shop.checkout"

    def ready(self):
        super().ready()
        self.pickup_view = get_class("checkout.views", "PickupView")

    def get_urls(self):
        urls = super().get_urls()
        urls.insert(1, path("pickup/", self.pickup_view.as_view(), name="pickup"))
        return urls
