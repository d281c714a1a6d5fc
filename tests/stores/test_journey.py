"""The whole click & collect journey through the test client, shopper and store staff.

Locate a store → make it my store → basket → pickup checkout (store, slot) → order
with a pickup code → the store's staff prepare it and mark it ready → the customer's
PICKUP_READY message is in the outbox → "I'm here" → handover with the code.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model

from shop.communication.models import OutboxMessage
from shop.communication.outbox import message_deliver
from stores.models import Pickup, PickupStatus, StorePreference
from tests.factories import product
from tests.stores.factories import every_day, staff_of, stock, store

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db


def test_shopper_collects_an_order_from_the_nearest_store(django_capture_on_commit_callbacks):
    # Given two stores open round the clock, only the nearer one has the product
    hours = every_day("00:00", "23:59")
    pickup_fields = {"preparation_minutes": 0, "slot_minutes": 30, "slot_capacity": 2}
    centre = store("Centre", lat=48.5819, lng=7.7507, hours=hours, **pickup_fields)
    robertsau = store("Robertsau", lat=48.5960, lng=7.7800, hours=hours, **pickup_fields)
    kougelhopf = product("Kougelhopf", price="12.00", stock=10)
    centre_stock = stock(centre, kougelhopf, 3, price="12.00")
    staff = staff_of(centre, "staff@centre.example")
    customer = get_user_model().objects.create_user("lea@example.com", "lea@example.com", "pw")
    shopper = Client()
    shopper.force_login(customer)

    # When the shopper's phone asks for the stores near it, with the product
    located = shopper.get(
        reverse("stores-api:list"), {"lat": "48.5830", "lng": "7.7480", "product": kougelhopf.pk}
    )

    # Then the nearest store with stock comes first
    assert located.status_code == 200
    assert [(s["slug"], s["stock"]) for s in located.json()["stores"]] == [
        (centre.slug, {"product": kougelhopf.pk, "num_available": 3})
    ]
    # and the locator finds the same two stores from the postcode, nearest first
    by_postcode = shopper.get(reverse("stores:locator"), {"place": "67000"})
    assert [row.store for row in by_postcode.context["rows"]] == [centre, robertsau]

    # When they make it their store
    chosen = shopper.post(
        reverse("stores:choose", kwargs={"slug": centre.slug}),
        {"next": kougelhopf.get_absolute_url()},
        follow=True,
    )

    # Then it is remembered on their profile and the product page shows its stock
    assert chosen.redirect_chain == [(kougelhopf.get_absolute_url(), 302)]
    assert StorePreference.objects.get(user=customer).store == centre
    assert "In stock at Centre (3)" in chosen.content.decode()

    # When they add two to the basket and check out for pickup
    shopper.post(reverse("basket:add", kwargs={"pk": kougelhopf.pk}), {"quantity": 2})
    assert shopper.get(reverse("checkout:index"))["Location"] == reverse("checkout:delivery")
    step = shopper.get(reverse("checkout:pickup"))
    assert [(c.store, c.is_mine) for c in step.context["choices"]] == [(centre, True)]
    times_url = reverse("checkout:pickup-store", kwargs={"slug": centre.slug})
    slot = list(shopper.get(times_url).context["slots"])[0]
    chose_slot = shopper.post(times_url, {"slot": slot.starts_at.isoformat()}, follow=True)
    assert chose_slot.redirect_chain[-1][0] == reverse("checkout:preview")
    placed = shopper.post(reverse("checkout:preview"), {"action": "place_order"}, follow=True)

    # Then the order is placed with a pickup code, shown on the thank-you page
    assert placed.redirect_chain[-1][0] == reverse("checkout:thank-you")
    order = Order.objects.get()
    pickup = Pickup.objects.get(order=order)
    assert (order.user, order.shipping_code, str(order.total_incl_tax)) == (
        customer,
        "click-and-collect",
        "24.00",
    )
    assert (pickup.store, pickup.status, pickup.slot.starts_at) == (
        centre,
        PickupStatus.NEW,
        slot.starts_at,
    )
    assert pickup.code.isdigit() and len(pickup.code) == 6
    assert pickup.code in placed.content.decode()
    centre_stock.refresh_from_db()
    assert (centre_stock.num_in_stock, centre_stock.num_allocated) == (3, 2)

    # When the store's staff (a partner user, not is_staff) open their queue
    counter = Client()
    counter.force_login(staff)
    assert staff.is_staff is False
    queue = counter.get(reverse("stores-dashboard:queue"))
    assert list(queue.context["pickups"]) == [pickup]
    status_url = reverse("stores-dashboard:status", kwargs={"pk": pickup.pk})

    # and start preparing, then mark it ready
    counter.post(status_url, {"action": "preparing"})
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.PREPARING
    with django_capture_on_commit_callbacks(execute=True):
        ready = counter.post(status_url, {"action": "ready"}, follow=True)

    # Then the customer's "ready" message is recorded in the outbox, with the code
    assert f"Order {order.number}: Ready for pickup." in ready.content.decode()
    messages = OutboxMessage.objects.filter(event_code="PICKUP_READY")
    assert [(m.channel, m.recipient, m.user) for m in messages] == [
        ("email", "lea@example.com", customer)
    ]
    # (its body holds the code, so it is blanked once sent: read what the customer received,
    # delivered now unless the in-process Celery already did it)
    message_deliver(message_id=messages[0].pk)
    (email,) = [m for m in mail.outbox if m.to == ["lea@example.com"] and "ready" in m.subject]
    assert email.subject == f"Your order {order.number} is ready at Centre"
    assert pickup.code in email.body

    # When the customer taps "I'm here" on their order page
    order_page = shopper.get(reverse("customer:order", kwargs={"order_number": order.number}))
    assert "I'm here" in order_page.content.decode()
    shopper.post(reverse("stores:pickup-here", kwargs={"number": order.number}))

    # Then the counter sees it, and handing over needs the right code
    assert "Customer is here" in counter.get(reverse("stores-dashboard:queue")).content.decode()
    wrong = counter.post(status_url, {"action": "collected", "code": "nope"}, follow=True)
    assert "That is not this order&#x27;s pickup code." in wrong.content.decode()
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.READY
    handed = counter.post(status_url, {"action": "collected", "code": pickup.code}, follow=True)

    # Then the order is collected and the two units have left the store's stock
    assert f"Order {order.number}: Collected. €24.00 taken at pickup." in handed.content.decode()
    assert "Customer is here" not in handed.content.decode()
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED
    # "Customer is here" ends with the hand-over
    assert pickup.collected_at is not None and pickup.customer_arrived_at is None
    centre_stock.refresh_from_db()
    assert (centre_stock.num_in_stock, centre_stock.num_allocated) == (1, 0)
    assert list(counter.get(reverse("stores-dashboard:queue")).context["pickups"]) == []
