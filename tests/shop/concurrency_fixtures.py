"""Helpers of the checkout's concurrency tests: a store with room for every buyer, a client
ready to place its order, placing it."""

from django.test import Client
from django.urls import reverse

from tests.stores.factories import every_day, store


def open_store(name, capacity=100):
    return store(
        name,
        hours=every_day("00:00", "23:59"),
        preparation_minutes=0,
        slot_minutes=30,
        slot_capacity=capacity,
    )


def buyer_ready_to_place(shop, items: list) -> Client:
    """A guest whose basket holds `items` (in that order) with pickup at `shop` chosen."""
    client = Client()
    client.post(reverse("stores:choose", kwargs={"slug": shop.slug}))
    for item in items:
        client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
    client.post(
        reverse("checkout:index"), {"username": "buyer@example.com", "options": "anonymous"}
    )
    url = reverse("checkout:pickup-store", kwargs={"slug": shop.slug})
    slot = next(iter(client.get(url).context["slots"]))
    response = client.post(url, {"slot": slot.starts_at.isoformat()})
    assert response.status_code == 302, response.content[:500]
    return client


def place(client: Client):
    return lambda: client.post(reverse("checkout:preview"), {"action": "place_order"})
