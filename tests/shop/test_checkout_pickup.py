"""Click & collect checkout: store that has the whole basket, slot, no address, pay at pickup."""

import pytest
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from stores.models import Pickup, PickupSlot
from stores.services import pickup_slot_book
from tests.factories import product
from tests.shop.checkout_fixtures import choose_pickup, open_store, start_checkout
from tests.stores.factories import stock

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db


def test_guest_collects_in_store_with_a_slot_and_no_address(client):
    # Given a product the online warehouse and two stores have; one store has too few
    mug = product("Mug", price="8.00", stock=10)
    online = mug.stockrecords.get()
    near, far = open_store("Krutenau", lat=48.58, lng=7.759), open_store("Robertsau")
    short = open_store("Neudorf")
    near_stock = stock(near, mug, 3, price="8.00")
    stock(far, mug, 5, price="8.00")
    stock(short, mug, 1, price="8.00")
    start_checkout(client, mug, quantity=2)

    # When the shopper opens the click & collect step
    page = client.get(reverse("checkout:pickup"))

    # Then only the stores with the whole basket are offered
    assert {choice.store for choice in page.context["choices"]} == {near, far}

    # When they pick a store and a slot, then place the order
    slot, response = choose_pickup(client, near)
    assert response.redirect_chain[-1][0] == reverse("checkout:preview")
    preview = client.get(reverse("checkout:preview"))
    assert preview.status_code == 200
    assert "Krutenau" in preview.content.decode()
    assert "Ready for pickup on" in preview.content.decode()
    response = client.post(reverse("checkout:preview"), {"action": "place_order"}, follow=True)

    # Then the order is placed for pickup, from that store's stock, with a code
    assert response.redirect_chain[-1][0] == reverse("checkout:thank-you")
    order = Order.objects.get()
    assert order.shipping_address is None
    assert order.shipping_code == "click-and-collect"
    assert [(line.stockrecord_id, line.quantity) for line in order.lines.all()] == [
        (near_stock.pk, 2)
    ]
    pickup = Pickup.objects.get(order=order)
    assert (pickup.store, pickup.status, len(pickup.code)) == (near, "new", 6)
    assert (pickup.slot.starts_at, pickup.slot.booked) == (slot.starts_at, 1)
    near_stock.refresh_from_db()
    online.refresh_from_db()
    assert near_stock.num_allocated == 2
    assert online.num_allocated in (None, 0)
    assert [s.source_type.code for s in order.sources.all()] == ["pay-at-pickup"]
    assert pickup.code in response.content.decode()


def test_a_slot_taken_meanwhile_leaves_no_order_and_no_allocation(client):
    mug = product("Mug", stock=10)
    shop = open_store(slot_capacity=1)
    record = stock(shop, mug, 3)
    start_checkout(client, mug)
    slot, _ = choose_pickup(client, shop)

    # Another shopper takes the last place before this one places the order
    pickup_slot_book(store=shop, starts_at=slot.starts_at, now=timezone.now())
    response = client.post(reverse("checkout:preview"), {"action": "place_order"})

    assert response.status_code == 200
    assert "fully booked" in response.content.decode() or "no longer available" in (
        response.content.decode()
    )
    assert not Order.objects.exists()
    record.refresh_from_db()
    assert record.num_allocated in (None, 0)
    assert PickupSlot.objects.get().booked == 1
    assert response.context["request"].basket.num_items == 1  # basket restored


def test_stock_gone_meanwhile_leaves_no_order_and_the_slot_free(client):
    mug = product("Mug", stock=10)
    shop = open_store()
    record = stock(shop, mug, 1)
    start_checkout(client, mug)
    choose_pickup(client, shop)

    StockRecord.objects.filter(pk=record.pk).update(num_allocated=1)  # sold meanwhile
    response = client.post(reverse("checkout:preview"), {"action": "place_order"})

    assert response.status_code == 200
    assert "no longer has 1 of “Mug” in stock" in response.content.decode()
    assert not Order.objects.exists()
    assert not PickupSlot.objects.filter(booked__gt=0).exists()


def test_a_slot_not_offered_is_refused_with_a_message(client):
    mug = product("Mug", stock=10)
    shop = open_store()
    stock(shop, mug, 1)
    start_checkout(client, mug)

    response = client.post(
        reverse("checkout:pickup-store", kwargs={"slug": shop.slug}),
        {"slot": "2020-01-01T10:00:00+00:00"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "slot": ["Please choose a pickup time from the list."]
    }
    assert not Pickup.objects.exists()


def test_shipping_address_page_offers_click_and_collect(client):
    mug = product("Mug", stock=10)
    start_checkout(client, mug)

    response = client.get(reverse("checkout:shipping-address"))

    assert reverse("checkout:pickup") in response.content.decode()
    assert "Collect in store instead (free)" in response.content.decode()


def test_a_line_added_after_choosing_the_store_asks_to_choose_again(client):
    mug, tea = product("Mug", stock=10), product("Tea", stock=10)
    shop = open_store()
    stock(shop, mug, 3)
    start_checkout(client, mug)
    choose_pickup(client, shop)

    client.post(reverse("basket:add", kwargs={"pk": tea.pk}), {"quantity": 1})  # online stock
    response = client.post(reverse("checkout:preview"), {"action": "place_order"})

    assert response.status_code == 200
    assert "please choose your pickup again" in response.content.decode()
    assert not Order.objects.exists()
