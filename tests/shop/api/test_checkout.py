"""Click & collect checkout through the API (shop/api/checkout.py): the site's checks, then
shop.orders' order_place."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from loyalty.models import Member
from loyalty.services.ledger import points_credit
from loyalty.services.members import member_enrol
from shop.communication.models import OutboxMessage
from stores.models import Pickup
from tests.factories import product
from tests.fake_stripe import PUBLISHABLE_KEY
from tests.shop.api.factories import bearer_client, customer
from tests.stores.factories import ALWAYS_OPEN, stock, store

pytestmark = pytest.mark.django_db


def _basket_ready(quantity=2):
    """A signed-in shopper's client with `quantity` teas in the basket, and the store."""
    shop = store("Centre", hours=ALWAYS_OPEN)
    tea = product("Tea", price="4.00", stock=0)
    stock(shop, tea, 5, price="4.00")
    client = bearer_client(customer())
    client.post(reverse("api:store-choose", kwargs={"slug": shop.slug}))
    client.post(reverse("api:basket"), {"product": tea.pk, "quantity": quantity}, format="json")
    (option,) = client.get(reverse("api:pickup-options")).json()
    return client, shop, option["slots"][0]["starts_at"]


def test_pay_at_pickup_places_the_order_with_its_pickup_and_empties_the_basket():
    client, shop, slot = _basket_ready()

    got = client.post(
        reverse("api:checkout"),
        {"store": shop.slug, "slot": slot, "payment": "pay-at-pickup"},
        format="json",
    )

    assert got.status_code == 201
    body = got.json()
    assert body["card"] is None
    assert (body["order"]["total_incl_tax"], body["order"]["pickup"]["store"]) == (
        "8.00",
        shop.slug,
    )
    pickup = Pickup.objects.get(order__number=body["order"]["number"])
    assert pickup.slot.starts_at == dt.datetime.fromisoformat(slot)
    assert client.get(reverse("api:basket")).json()["num_items"] == 0
    # The confirmation, in the outbox for Celery to deliver, as the site's checkout sends it.
    assert OutboxMessage.objects.filter(event_code="ORDER_PLACED").count() == 1


def test_a_slot_the_store_does_not_offer_is_a_400_on_the_slot_and_places_nothing():
    client, shop, _slot = _basket_ready()

    got = client.post(
        reverse("api:checkout"),
        {"store": shop.slug, "slot": "2001-01-01T10:00:00Z", "payment": "pay-at-pickup"},
        format="json",
    )

    assert got.status_code == 400
    assert got.json()["fields"] == {"slot": ["Please choose a pickup time from the list."]}
    assert Pickup.objects.count() == 0


def test_by_card_the_order_waits_for_payment_and_the_app_gets_the_client_secret(fake_stripe):
    client, shop, slot = _basket_ready()

    got = client.post(
        reverse("api:checkout"),
        {"store": shop.slug, "slot": slot, "payment": "card"},
        format="json",
    )

    assert got.status_code == 201
    body = got.json()
    assert body["order"]["status"] == "Pending payment"
    assert body["card"]["publishable_key"] == PUBLISHABLE_KEY
    assert body["card"]["client_secret"].startswith("pi_")


def test_card_is_refused_when_the_shop_takes_no_cards():
    client, shop, slot = _basket_ready()

    got = client.post(
        reverse("api:checkout"),
        {"store": shop.slug, "slot": slot, "payment": "card"},
        format="json",
    )

    assert got.status_code == 400
    assert list(got.json()["fields"]) == ["payment"]


def test_points_pay_part_of_the_order_and_leave_the_members_balance():
    client, shop, slot = _basket_ready()
    user = User.objects.get(email="ann@example.com")
    member = member_enrol(user=user)
    points_credit(member=member, amount=500, reason="Order", idempotency_key="e:points")

    got = client.post(
        reverse("api:checkout"),
        {"store": shop.slug, "slot": slot, "payment": "pay-at-pickup", "points": 200},
        format="json",
    )

    assert got.status_code == 201
    assert Member.objects.get(pk=member.pk).balance == 300
