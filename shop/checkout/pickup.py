"""Click & collect inside the checkout: the choice kept in the checkout session, basket lines
moved to the pickup store's stock records.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from oscar.core.loading import get_model

from stores.models import Store

StockRecord = get_model("partner", "StockRecord")

SESSION_NAMESPACE = "pickup"


@dataclass(frozen=True)
class PickupChoice:
    store: Store
    starts_at: dt.datetime


def pickup_choice_save(*, checkout_session, store: Store, starts_at: dt.datetime) -> None:
    checkout_session._set(SESSION_NAMESPACE, "store_id", store.pk)
    checkout_session._set(SESSION_NAMESPACE, "starts_at", starts_at.isoformat())


def pickup_choice_clear(*, checkout_session) -> None:
    checkout_session._flush_namespace(SESSION_NAMESPACE)


def pickup_choice_get(*, checkout_session) -> PickupChoice | None:
    store_id = checkout_session._get(SESSION_NAMESPACE, "store_id")
    starts_at = checkout_session._get(SESSION_NAMESPACE, "starts_at")
    if not store_id or not starts_at:
        return None
    store = Store.objects.active().filter(pk=store_id, pickup_enabled=True).first()
    if store is None:
        return None
    return PickupChoice(store, dt.datetime.fromisoformat(starts_at))


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
    kept = {}
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
