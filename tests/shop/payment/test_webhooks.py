"""Stripe's webhook: authenticity (R1), de-duplication (R2), order-independent state (R3)
and fulfilment without the browser (R4).

Orders are placed through the storefront; Stripe's side is the fake server, and the
events delivered are the ones it emits (fake.events), signed with the test secret.
"""

import itertools
import json
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.core.loading import get_model

from loyalty.models import PendingEarn, PointsEntry
from shop.communication.models import OutboxMessage
from shop.payment import gateway
from shop.payment.models import PaymentStatus, StripeEvent, StripePayment, StripeRefund
from stores.models import Pickup, PickupSlot
from tests.concurrency import hold_row_locks, run_concurrently
from tests.factories import product
from tests.loyalty.factories import member_factory
from tests.shop.checkout_fixtures import choose_pickup, open_store, start_checkout
from tests.shop.payment.helpers import (
    confirmations,
    deliver,
    delivery_checkout,
    last_event,
    member_delivery_checkout,
    pay_return,
    pay_url,
    payment_events,
    place_order,
    stripe_api,
)
from tests.stores.factories import stock

Order = get_model("order", "Order")
PaymentEvent = get_model("order", "PaymentEvent")
OrderNote = get_model("order", "OrderNote")
OrderStatusChange = get_model("order", "OrderStatusChange")
Source = get_model("payment", "Source")

pytestmark = pytest.mark.django_db

WEBHOOK = "/checkout/stripe/webhook/"


def placed_card_order(client):
    """A guest's delivery order (2 x 12.50 EUR) placed by card, awaiting payment."""
    item = delivery_checkout(client)
    response = place_order(client)
    order = Order.objects.get()
    assert response["Location"] == pay_url(order)
    payment = StripePayment.objects.get(order=order)
    return order, payment, item


def outcome(response) -> str:
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


# --- R1: authenticity ------------------------------------------------------------------------


def test_webhook_url_is_outside_the_language_prefix():
    assert reverse("stripe-webhook") == WEBHOOK


def test_valid_signed_event_is_accepted_and_applied(client, fake_stripe):
    order, payment, _item = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)

    with CaptureQueriesContext(connection) as queries:
        response = deliver(Client(), fake_stripe, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "applied"}
    # The capture sees the request's statements (the control for the refusals below).
    assert sum('INSERT INTO "payment_stripeevent"' in q["sql"] for q in queries) == 1
    order.refresh_from_db()
    assert order.status == "Pending"
    assert StripeEvent.objects.get().id == event["id"]


@pytest.mark.parametrize("seconds", [-290, 290])
def test_timestamps_within_the_tolerance_are_accepted(client, fake_stripe, seconds):
    order, payment, _item = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)

    response = deliver(Client(), fake_stripe, event, timestamp=int(time.time()) + seconds)

    assert outcome(response) == "applied"


def test_future_timestamps_are_refused_from_300_seconds_and_one(fake_stripe):
    payload = json.dumps(fake_stripe.event("payment_intent.succeeded", {"id": "pi_x"})).encode()
    now = int(time.time())

    accepted = gateway.webhook_event(
        payload, fake_stripe.sign(payload, timestamp=now + 300), now=now
    )
    assert accepted["data"]["object"] == {"id": "pi_x"}
    with pytest.raises(gateway.SignatureInvalid, match="in the future"):
        gateway.webhook_event(payload, fake_stripe.sign(payload, timestamp=now + 301), now=now)


def _altered_body(fake, payload):
    header = fake.sign(payload)
    event = json.loads(payload)
    event["data"]["object"]["amount_received"] = 1
    return json.dumps(event).encode(), header


def _wrong_secret(fake, payload):
    return payload, fake.sign(payload, "whsec_someone_else")


def _missing_header(fake, payload):
    return payload, None


# Ten seconds past the tolerance: whole-second timestamps and the time the request takes
# must not decide the outcome (the exact boundary is tested on webhook_event below).
def _too_old(fake, payload):
    return payload, fake.sign(payload, timestamp=int(time.time()) - 310)


def _too_new(fake, payload):
    return payload, fake.sign(payload, timestamp=int(time.time()) + 310)


def _garbled_header(fake, payload):
    return payload, "t=abc,v1=00"


def _signature_of_another_body(fake, payload):
    # A valid signature of an older genuine event, replayed on a different body.
    other = fake.sign(payload.replace(b'"livemode": false', b'"livemode": true'))
    return payload, other


# What a refused delivery must not touch: the webhook's own tables and the order's.
WATCHED = {
    "events": StripeEvent,
    "payments": StripePayment,
    "refunds": StripeRefund,
    "orders": Order,
    "payment events": PaymentEvent,
    "status changes": OrderStatusChange,
    "notes": OrderNote,
    "sources": Source,
    "outbox": OutboxMessage,
    "pending points": PendingEarn,
    "points": PointsEntry,
}


def row_counts() -> dict[str, int]:
    return {name: model.objects.count() for name, model in WATCHED.items()}


@pytest.mark.parametrize(
    "forge",
    [
        _altered_body,
        _wrong_secret,
        _missing_header,
        _too_old,
        _too_new,
        _garbled_header,
        _signature_of_another_body,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_forged_or_stale_deliveries_get_400_and_write_nothing(client, fake_stripe, forge):
    order, payment, item = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)
    payload, header = forge(fake_stripe, json.dumps(event).encode())
    before = row_counts()
    extra = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}

    webhook_client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = webhook_client.post(
            WEBHOOK, data=payload, content_type="application/json", **extra
        )

    assert response.status_code == 400
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert queries.captured_queries == []  # not even read: refused before any lookup
    assert row_counts() == before
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("Pending payment", "requires_payment_method")
    assert item.stockrecords.get().num_allocated == 2


def test_get_is_not_allowed(fake_stripe):
    response = Client().get(WEBHOOK)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_unknown_event_types_are_acknowledged_and_ignored(client, fake_stripe):
    order, payment, _item = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "charge.succeeded", payment.payment_intent_id)

    assert outcome(deliver(Client(), fake_stripe, event)) == "ignored"
    order.refresh_from_db()
    assert order.status == "Pending payment"


# --- R2: de-duplication ----------------------------------------------------------------------


def member_card_order(client):
    """A signed-in member's delivery order (2 x 12.50 EUR) placed by card, awaiting payment."""
    member = member_factory(email="member@example.com")
    member_delivery_checkout(client, member.user, price="12.50", quantity=2)
    response = place_order(client)
    order = Order.objects.get()
    assert response["Location"] == pay_url(order)
    return member, order, StripePayment.objects.get(order=order)


def assert_paid_once(order, member, event):
    order.refresh_from_db()
    assert Order.objects.count() == 1
    assert order.status == "Pending"
    assert payment_events(order) == [("Paid", Decimal("25.00"))]
    assert confirmations(order) == [("email", "member@example.com")]
    assert OutboxMessage.objects.filter(event_code="ORDER_PLACED").count() == 1
    assert list(StripeEvent.objects.values_list("id", "type")) == [
        (event["id"], "payment_intent.succeeded")
    ]
    source = order.sources.get()
    assert (source.amount_allocated, source.amount_debited) == (Decimal("25.00"), Decimal("25.00"))
    # Loyalty: one earn for the order, pending until the return window ends.
    earn = PendingEarn.objects.get()
    assert (earn.member_id, earn.order_id, earn.status) == (member.pk, order.pk, "pending")
    assert earn.points > 0
    member.refresh_from_db()
    assert member.pending == earn.points
    assert not PointsEntry.objects.filter(member=member).exists()


def test_same_event_delivered_ten_times_in_a_row_is_applied_once(client, fake_stripe):
    member, order, payment = member_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)

    outcomes = [outcome(deliver(Client(), fake_stripe, event)) for _ in range(10)]

    assert outcomes == ["applied"] + ["duplicate"] * 9
    assert_paid_once(order, member, event)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_event_delivered_ten_times_concurrently_is_applied_once(fake_stripe):
    member, order, payment = member_card_order(Client())
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)
    payload = json.dumps(event).encode()
    header = fake_stripe.sign(payload)

    def delivery():
        return Client().post(
            WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )

    # The payment row is held by another session: the first delivery waits on it with its
    # event row inserted, the nine others wait on that uncommitted event id.
    responses = run_concurrently(
        [delivery] * 10,
        lock=hold_row_locks("payment_stripepayment", [payment.pk]),
        until_blocked=10,
    )

    assert sorted(outcome(r) for r in responses) == ["applied"] + ["duplicate"] * 9
    assert_paid_once(order, member, event)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_webhook_and_browser_return_racing_confirm_the_order_once(fake_stripe):
    client = Client()
    member, order, payment = member_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)
    payload = json.dumps(event).encode()
    header = fake_stripe.sign(payload)

    def delivery():
        return Client().post(
            WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )

    calls = [delivery] * 5 + [lambda: pay_return(client, order)]
    responses = run_concurrently(
        calls, lock=hold_row_locks("payment_stripepayment", [payment.pk]), until_blocked=6
    )

    assert not [r for r in responses if isinstance(r, Exception)]
    assert responses[-1]["Location"] == reverse("checkout:thank-you")
    # Whoever got the row first settled the order; the event is recorded once either way.
    assert sorted(outcome(r) for r in responses[:5]) == ["applied"] + ["duplicate"] * 4
    assert_paid_once(order, member, event)


def test_event_not_applied_while_stripe_is_down_is_not_recorded_and_applies_on_redelivery(
    client, fake_stripe, fast_retries
):
    order, payment, _item = placed_card_order(client)
    pi_id = payment.payment_intent_id
    fake_stripe.customer_pays(pi_id)
    stripe_api(fake_stripe).v1.refunds.create(params={"payment_intent": pi_id, "amount": 500})
    # The refund's event arrives first: applying it needs the PaymentIntent, and Stripe is down.
    refunded = last_event(fake_stripe, "charge.refunded", pi_id)
    fake_stripe.fail_next("GET", "/v1/payment_intents", status=503, count=3)  # 1 + 2 retries

    response = deliver(Client(), fake_stripe, refunded)

    assert response.status_code == 503
    assert StripeEvent.objects.count() == 0  # not recorded: Stripe delivers it again
    order.refresh_from_db()
    assert (order.status, payment_events(order)) == ("Pending payment", [])

    assert outcome(deliver(Client(), fake_stripe, refunded)) == "applied"

    order.refresh_from_db()
    assert order.status == "Pending"
    assert payment_events(order) == [("Paid", Decimal("25.00")), ("Refunded", Decimal("5.00"))]
    assert confirmations(order) == [("email", "guest@example.com")]
    assert list(StripeEvent.objects.values_list("id", flat=True)) == [refunded["id"]]


# --- R3: order-independent state -------------------------------------------------------------

EVENT_TYPES = (
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.succeeded",
    "charge.refunded",
)


@pytest.mark.parametrize(
    "order_of_delivery",
    list(itertools.permutations(EVENT_TYPES)),
    ids=lambda p: "-".join(t.split(".")[-1] for t in p),
)
def test_every_order_of_delivery_ends_in_the_same_state(client, fake_stripe, order_of_delivery):
    order, payment, _item = placed_card_order(client)
    pi_id = payment.payment_intent_id
    # What happened at Stripe: a declined card, then a card that went through processing
    # and succeeded, then staff refunded 7.50 in Stripe's dashboard.
    fake_stripe.customer_pays(pi_id, "pm_card_chargeDeclined")
    fake_stripe.process(pi_id)
    fake_stripe.succeed(pi_id)
    stripe_api(fake_stripe).v1.refunds.create(params={"payment_intent": pi_id, "amount": 750})
    events = {t: last_event(fake_stripe, t, pi_id) for t in EVENT_TYPES}
    assert events["payment_intent.payment_failed"]["data"]["object"]["status"] == (
        "requires_payment_method"
    )
    assert events["charge.refunded"]["data"]["object"]["amount_refunded"] == 750

    outcomes = [outcome(deliver(Client(), fake_stripe, events[t])) for t in order_of_delivery]

    assert outcomes == ["applied"] * 4
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.status, order.status) == (PaymentStatus.SUCCEEDED, "Pending")
    assert (payment.amount_received, payment.amount_refunded) == (
        Decimal("25.000"),
        Decimal("7.500"),
    )
    refund_id = next(iter(fake_stripe.refunds))
    assert list(payment.refunds.values_list("refund_id", "amount")) == [
        (refund_id, Decimal("7.500"))
    ]
    assert payment_events(order) == [("Paid", Decimal("25.00")), ("Refunded", Decimal("7.50"))]
    assert confirmations(order) == [("email", "guest@example.com")]
    assert not payment.needs_review
    assert StripeEvent.objects.count() == 4


# --- R4: fulfilment driven by the webhook ----------------------------------------------------


def assert_confirmed_once(order):
    order.refresh_from_db()
    assert Order.objects.count() == 1
    assert order.status == "Pending"
    assert payment_events(order) == [("Paid", Decimal("25.00"))]
    assert confirmations(order) == [("email", "guest@example.com")]


def test_browser_never_comes_back_and_the_webhook_confirms_the_order(client, fake_stripe):
    order, payment, item = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    assert confirmations(order) == []

    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)
    assert outcome(deliver(Client(), fake_stripe, event)) == "applied"

    assert_confirmed_once(order)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_received) == ("succeeded", Decimal("25.000"))
    assert item.stockrecords.get().num_allocated == 2  # still allocated for shipping


def test_browser_returns_before_the_webhook(client, fake_stripe):
    order, payment, _item = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)

    back = pay_return(client, order)
    assert back["Location"] == reverse("checkout:thank-you")
    assert_confirmed_once(order)

    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)
    assert outcome(deliver(Client(), fake_stripe, event)) == "applied"
    assert_confirmed_once(order)
    assert client.get(back["Location"]).context["order"] == order


def test_browser_returns_after_the_webhook(client, fake_stripe):
    order, payment, _item = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)
    assert outcome(deliver(Client(), fake_stripe, event)) == "applied"

    back = pay_return(client, order)

    assert back["Location"] == reverse("checkout:thank-you")
    assert_confirmed_once(order)
    assert client.get(back["Location"]).context["order"] == order
    # The pay page of a paid order goes to the thank-you page too.
    assert client.get(pay_url(order))["Location"] == reverse("checkout:thank-you")


def test_payment_intent_canceled_at_stripe_cancels_the_order_and_releases_stock(
    client, fake_stripe
):
    order, payment, item = placed_card_order(client)
    assert item.stockrecords.get().num_allocated == 2
    stripe_api(fake_stripe).v1.payment_intents.cancel(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.canceled", payment.payment_intent_id)

    assert outcome(deliver(Client(), fake_stripe, event)) == "applied"
    # Stripe may deliver it again: nothing is released twice.
    assert outcome(deliver(Client(), fake_stripe, event)) == "duplicate"

    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("Cancelled", "canceled")
    assert item.stockrecords.get().num_allocated == 0
    assert list(order.notes.values_list("message", flat=True)) == [
        "The card payment was cancelled."
    ]
    assert payment_events(order) == []
    assert confirmations(order) == []


def test_payment_intent_canceled_releases_a_click_and_collect_slot_and_pickup(client, fake_stripe):
    lamp = product("Lamp", price="20.00", stock=10)
    shop = open_store(slot_capacity=2)
    store_stock = stock(shop, lamp, 3, price="20.00")
    start_checkout(client, lamp, quantity=1)
    slot, response = choose_pickup(client, shop)
    assert response.redirect_chain[-1][0] == reverse("checkout:payment-method")
    client.post(reverse("checkout:payment-method"), {"method": "card"})
    place_order(client)
    order = Order.objects.get()
    payment = StripePayment.objects.get(order=order)
    pickup = Pickup.objects.get(order=order)
    assert (order.status, pickup.status) == ("Pending payment", "new")
    assert PickupSlot.objects.get(pk=pickup.slot_id).booked == 1
    store_stock.refresh_from_db()
    assert store_stock.num_allocated == 1

    stripe_api(fake_stripe).v1.payment_intents.cancel(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.canceled", payment.payment_intent_id)
    assert outcome(deliver(Client(), fake_stripe, event)) == "applied"

    order.refresh_from_db()
    pickup.refresh_from_db()
    store_stock.refresh_from_db()
    assert order.status == "Cancelled"
    assert (pickup.status, pickup.closed_at is not None) == ("cancelled", True)
    assert PickupSlot.objects.get(pk=pickup.slot_id).booked == 0
    assert store_stock.num_allocated == 0
    assert slot.starts_at == PickupSlot.objects.get(pk=pickup.slot_id).starts_at


def test_payment_failed_alone_leaves_the_order_awaiting_payment(client, fake_stripe):
    order, payment, item = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id, "pm_card_chargeDeclined")
    event = last_event(fake_stripe, "payment_intent.payment_failed", payment.payment_intent_id)

    assert outcome(deliver(Client(), fake_stripe, event)) == "applied"

    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("Pending payment", "requires_payment_method")
    assert payment.last_error == "Your card was declined."
    assert item.stockrecords.get().num_allocated == 2
    assert payment_events(order) == []
    assert confirmations(order) == []

    # The browser comes back: the pay page says why, and offers the card form again
    back = client.get(
        reverse("checkout:pay-return", kwargs={"order_number": order.number}), follow=True
    )
    assert back.redirect_chain == [(pay_url(order), 302)]
    page = back.content.decode()
    assert "Your payment did not go through: Your card was declined. Please try another card." in (
        page
    )
    assert (
        back.context["stripe"]["client_secret"]
        == (fake_stripe.payment_intents[payment.payment_intent_id]["client_secret"])
    )

    # ... and another card goes through: the webhook confirms the same order
    fake_stripe.customer_pays(payment.payment_intent_id)
    event = last_event(fake_stripe, "payment_intent.succeeded", payment.payment_intent_id)
    assert outcome(deliver(Client(), fake_stripe, event)) == "applied"
    assert_confirmed_once(order)
