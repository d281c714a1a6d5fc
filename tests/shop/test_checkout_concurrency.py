"""R12/R13/R14 and the slot race: concurrent pickup checkouts on PostgreSQL, real threads.

Each buyer's basket and pickup choice are prepared one after the other; then
all "place order" POSTs run at once while another connection holds the
contended row lock (or a trigger slows every update), so they really race.
"""

import pytest
from django.db.utils import OperationalError
from django.utils import timezone
from oscar.core.loading import get_model

from stores.models import Pickup, PickupSlot
from stores.selectors import slots_available
from tests.concurrency import hold_row_locks, run_concurrently, slow_writes
from tests.factories import product
from tests.shop.concurrency_fixtures import buyer_ready_to_place, open_store, place
from tests.stores.factories import stock

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def placed(responses) -> int:
    for response in responses:
        assert not isinstance(response, Exception), repr(response)
    return sum(r.status_code == 302 and "thank-you" in r["Location"] for r in responses)


def test_r12_last_unit_twenty_buyers_one_order():
    mug = product("Mug", stock=0)
    shop = open_store("Centre")
    record = stock(shop, mug, 1)
    buyers = [buyer_ready_to_place(shop, [mug]) for _ in range(20)]

    responses = run_concurrently(
        [place(b) for b in buyers],
        lock=hold_row_locks("partner_stockrecord", [record.pk]),
        until_blocked=20,
    )

    assert placed(responses) == 1
    assert Order.objects.count() == 1
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (1, 1)
    refused = [r for r in responses if r.status_code == 200]
    assert len(refused) == 19
    assert all("no longer has 1 of" in r.content.decode() for r in refused)
    assert PickupSlot.objects.get().booked == 1


def test_r13_stores_are_isolated():
    mug = product("Mug", stock=0)
    a, b = open_store("A"), open_store("B")
    record_a, record_b = stock(a, mug, 1), stock(b, mug, 1)
    buyers = [buyer_ready_to_place(a, [mug]) for _ in range(10)]
    buyers += [buyer_ready_to_place(b, [mug]) for _ in range(10)]

    responses = run_concurrently(
        [place(buyer) for buyer in buyers],
        lock=hold_row_locks("partner_stockrecord", [record_a.pk, record_b.pk]),
        until_blocked=20,
    )

    assert placed(responses[:10]) == 1
    assert placed(responses[10:]) == 1
    assert sorted(Pickup.objects.values_list("store__name", flat=True)) == ["A", "B"]
    for record in (record_a, record_b):
        record.refresh_from_db()
        assert record.num_allocated == 1


def test_r14_opposite_line_orders_never_deadlock():
    tea, mug = product("Tea", stock=0), product("Mug", stock=0)
    shop = open_store("Centre")
    records = [stock(shop, tea, 50), stock(shop, mug, 50)]
    buyers = [buyer_ready_to_place(shop, [tea, mug]) for _ in range(5)]
    buyers += [buyer_ready_to_place(shop, [mug, tea]) for _ in range(5)]

    with slow_writes("partner_stockrecord", seconds=0.05):
        responses = run_concurrently([place(buyer) for buyer in buyers])

    assert not [r for r in responses if isinstance(r, OperationalError)]
    assert placed(responses) == 10
    for record in records:
        record.refresh_from_db()
        assert record.num_allocated == 10


def test_slot_capacity_is_never_overbooked():
    shop = open_store("Centre", capacity=2)
    # A different product per buyer, so only the slot row is shared.
    items = [product(f"Item {i}", stock=0) for i in range(8)]
    for item in items:
        stock(shop, item, 5)
    buyers = [buyer_ready_to_place(shop, [item]) for item in items]
    # The slot's counter row is created by the first booking; create it up front
    # so that every buyer queues on its lock.
    first = slots_available(store=shop, basket_or_lines=None, now=timezone.now())[0]
    slot = PickupSlot.objects.create(
        store=shop, starts_at=first.starts_at, ends_at=first.ends_at, capacity=2
    )

    responses = run_concurrently(
        [place(b) for b in buyers],
        lock=hold_row_locks("stores_pickupslot", [slot.pk]),
        until_blocked=8,
    )

    assert placed(responses) == 2
    slot.refresh_from_db()
    assert slot.booked == 2
    assert Pickup.objects.filter(slot=slot).count() == 2
    assert Order.objects.count() == 2
    # Refused orders left no allocation behind.
    assert (
        sum(
            StockRecord.objects.filter(partner=shop.partner).values_list(
                "num_allocated", flat=True
            ),
            0,
        )
        == 2
    )
