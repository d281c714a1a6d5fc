from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _lazy
from oscar.apps.partner.abstract_models import AbstractStockRecord

from stores.stock import stock_allocate, stock_consume, stock_release


class StockRecord(AbstractStockRecord):
    """Oscar's stock record that cannot be oversold (R12).

    Oscar's `allocate()` adds to `num_allocated` without looking at the stock
    (django-oscar#4524). Here Oscar's three stock methods go to `stores/stock.py`,
    the one module that allocates, consumes and releases stock: the allocation is
    one conditional UPDATE that only matches while enough stock is free, so
    concurrent checkouts for the last unit cannot both succeed; a database CHECK
    is the last line. Oscar's OrderCreator allocates lines in stock-record id
    order, so concurrent checkouts take these row locks in the same order (R14).
    A price is never negative (CHECK): a negative line would lower an order's
    total, down to below zero. No price (NULL) means "not for sale here".
    """

    class Meta(AbstractStockRecord.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(num_allocated__gte=0) & Q(num_allocated__lte=F("num_in_stock")),
                name="stockrecord_allocated_within_stock",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="stockrecord_price_not_negative",
                violation_error_message=_lazy("A price can't be negative."),
            ),
        ]

    def allocate(self, quantity):
        stock_allocate(record=self, quantity=quantity)

    allocate.alters_data = True

    def consume_allocation(self, quantity):
        stock_consume(record=self, quantity=quantity)

    consume_allocation.alters_data = True

    def cancel_allocation(self, quantity):
        stock_release(record=self, quantity=quantity)

    cancel_allocation.alters_data = True


from oscar.apps.partner.models import *  # noqa: E402, F403
