"""The basket page: Oscar's, with the offers read once per request (shop/basket_load.py)
for the upsell messages too (bench/README.md, "The basket in a fixed number of queries")."""

from typing import Any

from oscar.apps.basket import views as oscar_views

from shop.basket_load import request_offers


class BasketView(oscar_views.BasketView):
    def get_upsell_messages(self, basket: Any) -> list[dict]:
        # Oscar's, with the offers the middleware applied instead of reading them again.
        applied_offers = list(basket.offer_applications.offers.values())
        return [
            {"message": offer.get_upsell_message(basket), "offer": offer}
            for offer in request_offers(self.request, basket)
            if offer.is_condition_partially_satisfied(basket) and offer not in applied_offers
        ]
