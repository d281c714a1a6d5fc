"""A strategy that follows the shopper's store: its stock first, the online warehouse otherwise."""

from functools import cached_property

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.apps.partner import availability as oscar_availability
from oscar.apps.partner import strategy as oscar_strategy

from stores.models import Store
from stores.selectors import chosen_store_for_request


class UseChosenStoreStockRecord:
    """The chosen store's stock record when it has stock, else the online warehouse's.

    With no store chosen this is Oscar's default (the first stock record; the
    online partner's is created first). With a store chosen, "online" means a
    partner without a store. Products come with their stock records
    prefetched on listings, and the chosen store and the store partners are
    read once per request: no query per product.
    """

    @cached_property
    def chosen_store(self) -> Store | None:
        if self.request is None or not hasattr(self.request, "session"):
            return None
        return chosen_store_for_request(self.request)

    @cached_property
    def store_partner_ids(self) -> frozenset[int]:
        return frozenset(Store.objects.values_list("partner_id", flat=True))

    def select_stockrecord(self, product):
        # In primary-key order: the database returns rows in no set order (on PostgreSQL an
        # UPDATE moves a row), and "the first record" must be the same on every request.
        records = sorted(product.stockrecords.all(), key=lambda record: record.pk)
        if not records:
            return None
        store = self.chosen_store
        if store is None:
            return records[0]
        for record in records:
            if record.partner_id == store.partner_id and (record.net_stock_level or 0) > 0:
                return record
        online = [r for r in records if r.partner_id not in self.store_partner_ids]
        for record in online:
            if (record.net_stock_level or 0) > 0:
                return record
        return online[0] if online else records[0]


class StockRequiredAvailability(oscar_availability.StockRequired):
    """Oscar's rule (no more than the stock), with reasons written as sentences: they are
    shown alone, as the message of the basket page or of an add to the basket."""

    def is_purchase_permitted(self, quantity):
        if self.num_available <= 0:
            return False, _("This product is out of stock.")
        if quantity > self.num_available:
            return False, ngettext(
                "You can buy at most %(max)d of this product.",
                "You can buy at most %(max)d of this product.",
                self.num_available,
            ) % {"max": self.num_available}
        return True, ""


class StockRequired(oscar_strategy.StockRequired):
    def availability_policy(self, product, stockrecord):
        policy = super().availability_policy(product, stockrecord)
        if type(policy) is oscar_availability.StockRequired:
            return StockRequiredAvailability(policy.num_available)
        return policy


class StoreStrategy(
    UseChosenStoreStockRecord,
    StockRequired,
    oscar_strategy.NoTax,
    oscar_strategy.Structured,
):
    """Prices as Oscar's Default (no tax), stock required, the chosen store's stock first."""


class Selector(oscar_strategy.Selector):
    def strategy(self, request=None, user=None, **kwargs):
        return StoreStrategy(request)
