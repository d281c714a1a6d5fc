"""Getting a shopper to the "place order" button, and Stripe's side of a payment."""

import json
from decimal import Decimal

import stripe
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model

from shop.communication.models import OutboxMessage
from tests.factories import ADDRESS, product, shipping_country
from tests.fake_stripe import SECRET_KEY, FakeStripe

Order = get_model("order", "Order")


def delivery_checkout(client: Client, *, price: str = "12.50", quantity: int = 2, stock: int = 5):
    """A guest with `quantity` of one product, a shipping address and card chosen; the
    product is returned. The next step is POST preview action=place_order."""
    shipping_country("FR")
    item = product("Ethiopian beans", price=price, stock=stock)
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": quantity})
    client.post(
        reverse("checkout:index"), {"username": "guest@example.com", "options": "anonymous"}
    )
    response = client.post(reverse("checkout:shipping-address"), ADDRESS, follow=True)
    assert response.redirect_chain[-1][0] == reverse("checkout:preview"), response.redirect_chain
    return item


def place_order(client: Client):
    return client.post(reverse("checkout:preview"), {"action": "place_order"})


def webhook(client: Client, fake: FakeStripe, type: str, obj: dict, **kw):
    """Deliver a new signed event of `type` about `obj` to our webhook: (response, event)."""
    event = fake.event(type, obj, **kw)
    return deliver(client, fake, event), event


def stripe_api(fake: FakeStripe, *, retries: int = 0) -> stripe.StripeClient:
    """A stripe client of our own at the fake: Stripe's dashboard, or another system."""
    return stripe.StripeClient(
        SECRET_KEY,
        base_addresses={"api": fake.url},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=2),
    )


def pay_url(order) -> str:
    return reverse("checkout:pay", kwargs={"order_number": order.number})


def pay_return(client: Client, order):
    """The browser coming back from Stripe.js (after confirming, or 3-D Secure)."""
    return client.get(reverse("checkout:pay-return", kwargs={"order_number": order.number}))


def pay_cancel(client: Client, order):
    return client.post(reverse("checkout:pay-cancel", kwargs={"order_number": order.number}))


def use_points(client: Client, points: int):
    """Choose `points` on the preview (signed-in member)."""
    return client.post(reverse("checkout:preview"), {"action": "use_points", "points": points})


def member_delivery_checkout(
    client: Client, user, *, price: str = "20.00", quantity: int = 1, stock: int = 5
):
    """`user` signed in with `quantity` of one product and a shipping address, card chosen;
    the product is returned. The next step is POST preview (use_points or place_order)."""
    shipping_country("FR")
    item = product("Lamp", price=price, stock=stock)
    client.force_login(user)
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": quantity})
    response = client.post(reverse("checkout:shipping-address"), ADDRESS, follow=True)
    assert response.redirect_chain[-1][0] == reverse("checkout:preview"), response.redirect_chain
    return item


def paid_delivery_order(client: Client, fake: FakeStripe, **kwargs):
    """A guest's delivery order paid by card (2 x 12.50 = 25.00 EUR by default): (order,
    payment)."""
    from shop.payment.models import StripePayment

    delivery_checkout(client, **kwargs)
    place_order(client)
    order = Order.objects.get()
    payment = StripePayment.objects.get(order=order)
    fake.customer_pays(payment.payment_intent_id)
    back = pay_return(client, order)
    assert back["Location"] == reverse("checkout:thank-you")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("Pending", "succeeded")
    return order, payment


# What payments_reconcile counts when it has nothing to do.
NOTHING = {
    "refreshed": 0,
    "released": 0,
    "flagged": 0,
    "orphans_cancelled": 0,
    "refunds_confirmed": 0,
    "refunds_synced": 0,
}


# --- Webhook deliveries of Stripe's own events ---------------------------------------------


def deliver(client: Client, fake: FakeStripe, event: dict, **sign_kw):
    """POST `event` (e.g. one of fake.events, with its own id) to our webhook, signed."""
    payload = json.dumps(event).encode()
    return client.post(
        reverse("stripe-webhook"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=fake.sign(payload, **sign_kw),
    )


def last_event(fake: FakeStripe, type: str, pi_id: str) -> dict:
    """The newest Event of `type` Stripe would send about PaymentIntent `pi_id`."""

    def about(event: dict) -> str:
        obj = event["data"]["object"]
        return obj.get("payment_intent") or obj["id"]

    return [e for e in fake.events_of_type(type) if about(e) == pi_id][-1]


# --- What an order went through -------------------------------------------------------------


def confirmations(order) -> list[tuple[str, str]]:
    """The order's "order placed" messages in the outbox: (channel, recipient)."""
    return list(
        OutboxMessage.objects.filter(event_code="ORDER_PLACED", subject__contains=order.number)
        .order_by("pk")
        .values_list("channel", "recipient")
    )


def payment_events(order) -> list[tuple[str, Decimal]]:
    return [(e.event_type.name, e.amount) for e in order.payment_events.order_by("pk")]


# --- Staff ---------------------------------------------------------------------------------

FINANCE = ("order.view_order", "payment.add_striperefund", "payment.change_stripepayment")


def staff_client(*perms: str, raise_request_exception: bool = True) -> Client:
    """A signed-in staff member with `perms` ("app.codename"); FINANCE is what the finance
    group would have."""
    user = get_user_model().objects.create_user(
        username="ops", email="ops@example.com", password="pw", is_staff=True
    )
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client(raise_request_exception=raise_request_exception)
    client.force_login(user)
    return client
