"""Click & collect inside the checkout: the choice kept in the checkout session, basket lines
moved to the pickup store's stock records.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from oscar.core.loading import get_model

from stores.models import Store

from .utils import CheckoutSessionData

StockRecord = get_model("partner", "StockRecord")


@dataclass(frozen=True)
class PickupChoice:
    store: Store
    starts_at: dt.datetime


def pickup_choice_save(
    *, checkout_session: CheckoutSessionData, store: Store, starts_at: dt.datetime
) -> None:
    checkout_session.pickup_choose(store_id=store.pk, starts_at=starts_at)


def pickup_choice_clear(*, checkout_session: CheckoutSessionData) -> None:
    checkout_session.pickup_forget()


def pickup_choice_get(*, checkout_session: CheckoutSessionData) -> PickupChoice | None:
    """The store and slot chosen, if the store still offers click & collect."""
    chosen = checkout_session.pickup_chosen()
    if chosen is None:
        return None
    store_id, starts_at = chosen
    store = Store.objects.active().filter(pk=store_id, pickup_enabled=True).first()
    if store is None:
        return None
    return PickupChoice(store, starts_at)


@transaction.atomic
def basket_use_store_stock(*, basket, store: Store) -> None:
    """Point every basket line at the store's stock record, so price and stock are the store's.

    Lines of the same product (added under different stores) are merged.
    Raises LookupError if the store does not sell one of the products.
    """
    records = {
        r.product_id: r
        for r in StockRecord.objects.filter(
            partner_id=store.partner_id,
            product__in=[line.product_id for line in basket.all_lines()],
        )
    }
    kept: dict[str, Any] = {}
    for line in basket.lines.select_for_update().order_by("pk"):
        record = records.get(line.product_id)
        if record is None:
            raise LookupError(line.product_id)
        reference = basket._create_line_reference(line.product, record, [])
        if line.attributes.exists():
            reference = line.line_reference  # options make the line distinct: leave its key
        if reference in kept:
            kept[reference].quantity += line.quantity
            kept[reference].save(update_fields=["quantity"])
            line.delete()
            continue
        line.stockrecord, line.line_reference = record, reference
        line.save(update_fields=["stockrecord", "line_reference"])
        kept[reference] = line
    basket.reset_offer_applications()
    basket._lines = None
