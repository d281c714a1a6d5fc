"""Stock held for orders: every allocation, consumption and release goes through here.

- `stock_allocate`: an order is placed (Oscar's OrderCreator calls `StockRecord.allocate`,
  which comes here) -- one conditional UPDATE that only matches while enough stock is
  free, so concurrent checkouts for the last unit cannot both succeed (R12);
- `stock_consume_lines`: the order leaves the store (pickup handed over);
- `stock_release_lines`: the order is cancelled, or its pickup cancelled or uncollected.

Rows are locked in primary-key order (docs/architecture.md, Lock order, step 6): Oscar's
OrderCreator allocates lines in stock record id order, and the line functions lock every
row they touch in that order before changing any, so two transactions never wait on
each other (R14). Products whose class does not track stock are left alone, as in Oscar.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.db.models.functions import Coalesce, Least
from django.utils.translation import gettext as _
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.partner.exceptions import InvalidStockAdjustment

if TYPE_CHECKING:
    from oscar.apps.order.models import Line
    from oscar.apps.partner.models import StockRecord


class InsufficientStock(UnableToPlaceOrder):
    """An allocation asked for more than the stock record has free; nothing was changed.

    A subclass of UnableToPlaceOrder so that the checkout rolls the order back, restores
    the basket and shows the message.
    """


def stock_allocate(*, record: StockRecord, quantity: int) -> None:
    """Hold `quantity` of `record` for an order, or raise InsufficientStock."""
    if not record.can_track_allocations:
        return
    record.pre_save_signal()
    allocated = Coalesce(F("num_allocated"), 0)
    updated = (
        type(record)
        .objects.filter(pk=record.pk, num_in_stock__gte=allocated + quantity)
        .update(num_allocated=allocated + quantity)
    )
    if not updated:
        raise InsufficientStock(
            _("Sorry, %(partner)s no longer has %(quantity)d of “%(product)s” in stock.")
            % {
                "partner": record.partner.display_name,
                "quantity": quantity,
                "product": record.product.get_title(),
            }
        )
    record.refresh_from_db(fields=["num_allocated"])
    record.post_save_signal()


def stock_consume(*, record: StockRecord, quantity: int) -> None:
    """`quantity` held for an order leaves the stock (InvalidStockAdjustment if it was
    not held)."""
    if not record.can_track_allocations:
        return
    if not record.is_allocation_consumption_possible(quantity):
        raise InvalidStockAdjustment(_("Invalid stock consumption request"))
    record.pre_save_signal()
    type(record).objects.filter(pk=record.pk).update(
        num_allocated=Coalesce(F("num_allocated"), 0) - quantity,
        num_in_stock=Coalesce(F("num_in_stock"), 0) - quantity,
    )
    record.refresh_from_db(fields=["num_allocated", "num_in_stock"])
    record.post_save_signal()


def stock_release(*, record: StockRecord, quantity: int) -> None:
    """`quantity` held for an order is free again (never below nothing held)."""
    if not record.can_track_allocations:
        return
    record.pre_save_signal()
    allocated = Coalesce(F("num_allocated"), 0)
    type(record).objects.filter(pk=record.pk).update(
        num_allocated=allocated - Least(allocated, quantity)
    )
    record.refresh_from_db(fields=["num_allocated"])
    record.post_save_signal()


def _lines_locked(lines: Iterable[Line]) -> list[Line]:
    """The lines that have a stock record, in stock record id order, with those rows
    locked in that order."""
    ordered = sorted(
        (line for line in lines if line.stockrecord_id), key=lambda line: line.stockrecord_id
    )
    if ordered:
        model: Any = type(ordered[0].stockrecord)
        ids = [line.stockrecord_id for line in ordered]
        list(model.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
    return ordered


def stock_consume_lines(*, lines: Iterable[Line]) -> None:
    """An order's lines leave the store: what each held is taken off the stock."""
    for line in _lines_locked(lines):
        stock_consume(record=line.stockrecord, quantity=line.quantity)


def stock_release_lines(*, lines: Iterable[Line]) -> None:
    """An order's lines no longer need their stock: what each held is free again."""
    for line in _lines_locked(lines):
        stock_release(record=line.stockrecord, quantity=line.quantity)
