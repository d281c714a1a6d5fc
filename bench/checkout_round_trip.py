"""The checkout round trip of bench/pages_at_size.py: ours click & collect, plain Oscar's home
delivery (bench/README.md, "pages_at_size.py"), run in that script's worker processes."""

CHECKOUT_PAGE = "checkout round trip"
CHECKOUT_URL = "/checkout/ (ours: pickup; Oscar: delivery)"
CHECKOUT_ADDRESS = {
    "first_name": "Léa",
    "last_name": "Muller",
    "line1": "12 rue des Juifs",
    "line4": "Strasbourg",
    "postcode": "67000",
    "country": "FR",
    "phone_number": "",
}


class CheckoutRoundTrip:
    """A guest's checkout of a basket of one line, set up by `prepare` (not timed): ours
    is click & collect (POST of the store's time, then the payment step and the preview as
    they follow, POST place_order, thank-you page: bench/stores.py times the same), plain
    Oscar's the home delivery (POST of the address, then the shipping method, payment and
    preview steps as they follow, POST place_order, thank-you page). On the vanilla side
    the local test payment stands in for a card, as in tests/shop/test_shopper_journey.py;
    ours is paid at pickup. Every round trip places an order in the catalogue's database."""

    def __init__(self):
        from django.conf import settings

        # The vanilla sides pay with the local test payment (bench/settings_vanilla.py).
        self.pickup = "vanilla" not in settings.SETTINGS_MODULE
        self.item = self.store = self.client = None
        self.slot = ""

    def _next_item(self) -> bool:
        """The product of the round trips: the first (in id order) that a store holds 5 of
        and the warehouse 100, kept while it has them (its thumbnails are then made once,
        as on a shop's busy products), then the next: the same on each side. Whether it
        changed."""
        from django.db.models import F
        from django.db.models.functions import Coalesce
        from oscar.core.loading import get_model

        records = (
            get_model("partner", "StockRecord")
            .objects.annotate(net=F("num_in_stock") - Coalesce(F("num_allocated"), 0))
            .filter(
                net__gte=5,
                partner__store__pickup_enabled=True,
                partner__store__is_active=True,
                product__stockrecords__partner__store__isnull=True,
                product__stockrecords__num_in_stock__gte=100,
            )
            .order_by("product_id", "partner_id")
            .select_related("partner__store", "product")
        )
        before = self.item
        record = records.filter(product_id__gte=before.pk if before else 0).first()
        record = record or records.first()
        self.item, self.store = record.product, record.partner.store
        return self.item != before

    def _basket_new(self) -> None:
        from django.test import Client
        from django.utils import timezone

        from stores.selectors import slots_available

        self.client = Client()
        self.client.post(f"/basket/add/{self.item.pk}/", {"quantity": 1})
        started = self.client.post(
            "/checkout/", {"username": "bench-checkout@example.com", "options": "anonymous"}
        )
        if started.status_code != 302:
            raise RuntimeError(f"checkout did not start: {started.status_code}")
        if self.pickup:
            slots = slots_available(store=self.store, basket_or_lines=None, now=timezone.now())
            self.slot = slots[0].starts_at.isoformat()

    def prepare(self) -> None:
        if self._next_item():
            # A first round trip with a new product makes its thumbnails: not timed.
            self._basket_new()
            self.round_trip()
        self._basket_new()

    def plan(self) -> dict:
        """For bench/pages_http.py: what its round trip over HTTP buys, where and when (the
        product and store of `prepare`, the first free slot now)."""
        from django.utils import timezone

        from stores.selectors import slots_available

        self.prepare()  # the product kept while it has stock; its thumbnails made
        slot = ""
        if self.pickup:
            slots = slots_available(store=self.store, basket_or_lines=None, now=timezone.now())
            slot = slots[0].starts_at.isoformat()
        return {"item": self.item.pk, "store": self.store.slug, "slot": slot, "pickup": self.pickup}

    def round_trip(self):
        if self.pickup:
            chosen = self.client.post(
                f"/checkout/pickup/{self.store.slug}/", {"slot": self.slot}, follow=True
            )
        else:
            chosen = self.client.post("/checkout/shipping-address/", CHECKOUT_ADDRESS, follow=True)
        if chosen.redirect_chain[-1:] != [("/checkout/preview/", 302)]:
            return _failed(chosen)
        placed = self.client.post("/checkout/preview/", {"action": "place_order"}, follow=True)
        if placed.redirect_chain[-1:] != [("/checkout/thank-you/", 302)]:
            return _failed(placed)
        return placed


def _failed(response):
    """A 200 page that is not the step expected: answered as a 599 (a failed page)."""
    response.status_code = 599 if response.status_code == 200 else response.status_code
    return response
