"""The customer's orders and "I'm here" through the API (shop/api/orders.py)."""

import datetime as dt

import pytest
from django.urls import reverse

from stores.models import Pickup
from tests.shop.api.factories import bearer_client, customer
from tests.stores.factories import ALWAYS_OPEN, pickup_order, store

pytestmark = pytest.mark.django_db


def test_a_shopper_lists_their_orders_with_the_pickup_and_never_anothers():
    ann, bob = customer(), customer("bob@example.com")
    shop = store("Centre", hours=ALWAYS_OPEN)
    anns = pickup_order(shop, user=ann)
    bobs = pickup_order(shop, user=bob)
    client = bearer_client(ann)

    listed = client.get(reverse("api:orders")).json()
    other = client.get(reverse("api:order", kwargs={"number": bobs.order.number}))
    other_here = client.post(reverse("api:order-here", kwargs={"number": bobs.order.number}))

    assert [
        (o["number"], o["pickup"]["store_name"], o["pickup"]["status"]) for o in listed["results"]
    ] == [(str(anns.order.number), "Centre", "new")]
    assert other.status_code == other_here.status_code == 404
    assert other.json()["code"] == "not_found"
    assert Pickup.objects.get(pk=bobs.pk).customer_arrived_at is None


def test_im_here_near_the_slot_tells_the_store():
    ann = customer()
    pickup = pickup_order(store(hours=ALWAYS_OPEN), user=ann, starts_in=dt.timedelta(minutes=10))

    got = bearer_client(ann).post(reverse("api:order-here", kwargs={"number": pickup.order.number}))

    assert got.status_code == 200
    assert got.json()["customer_arrived_at"] is not None
    assert Pickup.objects.get(pk=pickup.pk).customer_arrived_at is not None


def test_im_here_hours_before_the_slot_is_refused_with_the_reason():
    ann = customer()
    pickup = pickup_order(store(hours=ALWAYS_OPEN), user=ann, starts_in=dt.timedelta(hours=5))

    got = bearer_client(ann).post(reverse("api:order-here", kwargs={"number": pickup.order.number}))

    assert got.status_code == 409
    assert got.json()["code"] == "refused"
    assert got.json()["message"].startswith("It is too early to tell")
    assert Pickup.objects.get(pk=pickup.pk).customer_arrived_at is None


def test_an_order_shows_its_lines():
    ann = customer()
    pickup = pickup_order(store(), user=ann, quantity=2)

    got = bearer_client(ann).get(reverse("api:order", kwargs={"number": pickup.order.number}))

    assert [
        (line["quantity"], line["title"].startswith("Item")) for line in got.json()["lines"]
    ] == [(2, True)]
