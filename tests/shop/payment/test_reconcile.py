"""Reconciliation (R5) and payment holds (R15): `payments_reconcile` makes our payments and
Stripe agree when the browser and the webhook both failed to tell us.

Orders are placed through the storefront; Stripe is the fake server, whose `clock` dates
PaymentIntents created "earlier". The job is given `now` (later than the orders).
"""

import datetime as dt
import threading
import time
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.models import EntryKind, PendingEarn
from loyalty.services.ledger import points_credit
from shop.communication.models import OutboxMessage
from shop.payment import reconciliation
from shop.payment.models import PaymentStatus, StripeEvent, StripePayment
from stores.services import pickup_slot_book
from tests.celery_worker import Worker
from tests.concurrency import run_concurrently, slow_writes
from tests.factories import product
from tests.fake_stripe import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.loyalty.conftest import assert_ledger_balanced
from tests.loyalty.factories import member_factory
from tests.shop.checkout_fixtures import choose_pickup, open_store, start_checkout
from tests.shop.payment.helpers import (
    ADDRESS,
    NOTHING,
    confirmations,
    delivery_checkout,
    member_delivery_checkout,
    pay_return,
    pay_url,
    payment_events,
    place_order,
    stripe_api,
    use_points,
)
from tests.stores.factories import stock

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db


def placed_card_order(client=None, **checkout):
    """A guest's delivery order (2 x 12.50 EUR by default) placed by card: (order, payment)."""
    client = client or Client()
    delivery_checkout(client, **checkout)
    response = place_order(client)
    order = Order.objects.get(number=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert response["Location"] == pay_url(order)
    return order, StripePayment.objects.get(order=order)


def minutes_later(minutes: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


def after_the_hold() -> dt.datetime:
    return minutes_later(settings.PAYMENT_HOLD_MINUTES + 1)


def orphans(fake: FakeStripe) -> list[str]:
    """PaymentIntents at Stripe for one of our order numbers that we neither know nor
    cancelled: money that could be taken without an order."""
    known = set(StripePayment.objects.values_list("payment_intent_id", flat=True))
    return sorted(
        pi_id
        for pi_id, pi in fake.payment_intents.items()
        if pi["metadata"].get("shop") == "solomo"
        and pi["metadata"].get("order_number")
        and pi["status"] != "canceled"
        and pi_id not in known
    )


def orphan_at_stripe(fake: FakeStripe, order_number: str, *, age_seconds: int) -> str:
    """A PaymentIntent created `age_seconds` ago for `order_number`, with no order here
    (the order's transaction failed after Stripe created it)."""
    real_clock = fake.clock
    fake.clock = lambda: real_clock() - age_seconds
    try:
        intent = stripe_api(fake).v1.payment_intents.create(
            params={
                "amount": 2500,
                "currency": "eur",
                "metadata": {"order_number": order_number, "shop": "solomo"},
                "automatic_payment_methods": {"enabled": True},
            }
        )
    finally:
        fake.clock = real_clock
    return intent.id


def stripe_posts(fake: FakeStripe) -> list[tuple[str, str | None]]:
    return [(path, key) for method, path, _params, key in fake.requests if method == "POST"]


# --- (a) nobody told us: the webhook never came, the browser's return hit a Stripe 500 -------


def test_paid_order_the_return_could_not_confirm_is_settled_by_reconciliation(
    client, fake_stripe, fast_retries
):
    order, payment = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    fake_stripe.fail_next("GET", "/v1/payment_intents", status=500, count=3)  # 1 + 2 retries

    back = client.get(reverse("checkout:pay-return", kwargs={"order_number": order.number}))

    # The browser is sent back to the pay page with the message -- and the phone is put
    # away before it loads (the pay page would have read the PaymentIntent again).
    assert back["Location"] == pay_url(order)
    pi_path = f"/v1/payment_intents/{payment.payment_intent_id}"
    assert [r[1] for r in fake_stripe.requests if r[0] == "GET"] == [pi_path] * 3  # all failed
    assert [str(m) for m in get_messages(back.wsgi_request)][0].startswith(
        "We could not confirm your payment with the bank yet."
    )
    order.refresh_from_db()
    assert order.status == "Pending payment"
    assert (payment_events(order), confirmations(order)) == ([], [])

    counts = reconciliation.payments_reconcile(now=minutes_later(3))

    assert counts == {**NOTHING, "refreshed": 1}
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("Pending", "succeeded")
    assert payment.amount_received == Decimal("25.000")
    assert payment_events(order) == [("Paid", Decimal("25.00"))]
    assert confirmations(order) == [("email", "guest@example.com")]
    assert Order.objects.count() == 1
    assert orphans(fake_stripe) == []
    assert not StripePayment.objects.filter(order__isnull=True).exists()


def test_a_payment_is_left_to_the_browser_and_webhook_for_two_minutes(client, fake_stripe):
    order, payment = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)

    assert reconciliation.payments_reconcile(now=minutes_later(1)) == NOTHING

    order.refresh_from_db()
    assert order.status == "Pending payment"
    assert [r[:2] for r in fake_stripe.requests if r[0] == "GET"] == [
        ("GET", "/v1/refunds"),  # refunds made at Stripe
        ("GET", "/v1/payment_intents"),  # the orphan search
    ]


# --- (b) PaymentIntents at Stripe without an order -------------------------------------------


def test_orphan_payment_intents_are_cancelled_or_flagged(fake_stripe):
    unpaid = orphan_at_stripe(fake_stripe, "100901", age_seconds=180)
    paid = orphan_at_stripe(fake_stripe, "100902", age_seconds=180)
    fake_stripe.customer_pays(paid)
    recent = orphan_at_stripe(fake_stripe, "100903", age_seconds=60)
    not_ours = stripe_api(fake_stripe).v1.payment_intents.create(
        params={"amount": 900, "currency": "eur"}
    )
    # The staging shop on the same Stripe account, mid-checkout with an order number too
    real_clock = fake_stripe.clock
    fake_stripe.clock = lambda: real_clock() - 600
    staging = stripe_api(fake_stripe).v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "eur",
            "metadata": {"order_number": "100904", "shop": "solomo-staging"},
        }
    )
    fake_stripe.clock = real_clock

    counts = reconciliation.payments_reconcile(now=timezone.now())

    assert counts == {**NOTHING, "flagged": 1, "orphans_cancelled": 1}
    at_stripe = fake_stripe.payment_intents
    assert (at_stripe[unpaid]["status"], at_stripe[unpaid]["cancellation_reason"]) == (
        "canceled",
        "abandoned",
    )
    assert stripe_posts(fake_stripe)[-1] == (
        f"/v1/payment_intents/{unpaid}/cancel",
        f"pi-cancel:{unpaid}",
    )
    assert at_stripe[paid]["status"] == "succeeded"  # never cancelled: it is money taken
    flagged = StripePayment.objects.get()
    assert (
        flagged.payment_intent_id,
        flagged.order,
        flagged.order_number,
        flagged.status,
        flagged.amount,
        flagged.amount_received,
        flagged.currency,
        flagged.needs_review,
    ) == (paid, None, "100902", "succeeded", Decimal("25.000"), Decimal("25.000"), "EUR", True)
    assert flagged.review_reason == (
        "Charged at Stripe but no order exists: refund it or contact the payer."
    )
    # Too recent (its order may still be committing), and not ours: left alone.
    assert at_stripe[recent]["status"] == "requires_payment_method"
    assert at_stripe[not_ours.id]["status"] == "requires_payment_method"
    assert at_stripe[staging.id]["status"] == "requires_payment_method"
    assert orphans(fake_stripe) == [recent]

    # Two minutes on, the recent one is an orphan too; the flagged one is not flagged again.
    counts = reconciliation.payments_reconcile(now=minutes_later(2))

    assert counts == {**NOTHING, "orphans_cancelled": 1}
    assert fake_stripe.payment_intents[recent]["status"] == "canceled"
    assert StripePayment.objects.count() == 1
    assert orphans(fake_stripe) == []


def failed_click_and_collect_placement(client, fake: FakeStripe):
    """A guest's click & collect card order whose placement fails: another shopper took the
    last place in the slot after the PaymentIntent was created. Returns (shop, its id)."""
    lamp = product("Lamp", price="20.00", stock=10)
    shop = open_store(slot_capacity=1)
    stock(shop, lamp, 3, price="20.00")
    start_checkout(client, lamp, quantity=1)
    slot, _response = choose_pickup(client, shop)
    client.post(reverse("checkout:payment-method"), {"method": "card"})
    pickup_slot_book(store=shop, starts_at=slot.starts_at, now=timezone.now())

    response = place_order(client)

    assert response.status_code == 200  # the preview again, with the reason
    assert not Order.objects.exists()
    (pi_id,) = fake.payment_intents
    return shop, pi_id


def retry_on_another_slot(client, shop):
    choose_pickup(client, shop, slot_index=1)
    client.post(reverse("checkout:payment-method"), {"method": "card"})
    response = place_order(client)
    order = Order.objects.get()
    assert response["Location"] == pay_url(order)
    return order, StripePayment.objects.get(order=order)


def test_a_failed_placement_cancels_its_payment_intent_and_the_retry_gets_a_payable_one(
    client, fake_stripe
):
    shop, abandoned = failed_click_and_collect_placement(client, fake_stripe)
    intent = fake_stripe.payment_intents[abandoned]
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")
    assert orphans(fake_stripe) == []

    # The shopper picks another slot and places the same basket (same order number) again
    order, payment = retry_on_another_slot(client, shop)

    assert payment.payment_intent_id != abandoned
    intent = fake_stripe.payment_intents[payment.payment_intent_id]
    assert (intent["status"], intent["metadata"]) == (
        "requires_payment_method",
        {"order_number": order.number, "shop": "solomo"},
    )
    page = client.get(pay_url(order))
    assert page.context["stripe"]["client_secret"] == intent["client_secret"]
    fake_stripe.customer_pays(payment.payment_intent_id)
    assert pay_return(client, order)["Location"] == reverse("checkout:thank-you")
    order.refresh_from_db()
    assert order.status == "Pending"
    assert reconciliation.payments_reconcile(now=minutes_later(3)) == NOTHING
    assert orphans(fake_stripe) == []


def test_a_payment_intent_left_by_a_failed_placement_is_cancelled_by_reconciliation(
    client, fake_stripe, fast_retries
):
    # Stripe does not answer the cancel of the failed placement's PaymentIntent
    fake_stripe.fail_next(
        "POST", "/v1/payment_intents/pi_", status=500, after_commit=False, count=3
    )
    _shop, left = failed_click_and_collect_placement(client, fake_stripe)
    assert fake_stripe.payment_intents[left]["status"] == "requires_payment_method"
    assert orphans(fake_stripe) == [left]

    # Within two minutes its order may still be committing: left alone
    assert reconciliation.payments_reconcile(now=minutes_later(1)) == NOTHING
    counts = reconciliation.payments_reconcile(now=minutes_later(3))

    assert counts == {**NOTHING, "orphans_cancelled": 1}
    assert fake_stripe.payment_intents[left]["status"] == "canceled"
    assert orphans(fake_stripe) == []
    assert not StripePayment.objects.exists()


# --- (c) R15: holds expire -------------------------------------------------------------------


def test_an_unpaid_order_is_released_when_its_hold_expires(client, fake_stripe, settings):
    settings.PAYMENT_HOLD_MINUTES = 20
    member = member_factory(email="member@example.com")
    points_credit(member=member, amount=1500, reason="Earned", idempotency_key="seed")
    lamp = member_delivery_checkout(client, member.user, price="20.00", quantity=1)
    use_points(client, 500)
    place_order(client)
    order = Order.objects.get()
    payment = StripePayment.objects.get(order=order)
    pi_id = payment.payment_intent_id
    assert fake_stripe.payment_intents[pi_id]["amount"] == 1500  # 20.00 less 5.00 in points
    assert lamp.stockrecords.get().num_allocated == 1
    member.refresh_from_db()
    assert member.balance == 1000

    # Still within the hold: looked at, nothing released
    assert reconciliation.payments_reconcile(now=minutes_later(19)) == {**NOTHING, "refreshed": 1}
    order.refresh_from_db()
    assert order.status == "Pending payment"

    counts = reconciliation.payments_reconcile(now=minutes_later(21))

    assert counts == {**NOTHING, "refreshed": 1, "released": 1}
    intent = fake_stripe.payment_intents[pi_id]
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("Cancelled", "canceled")
    assert lamp.stockrecords.get().num_allocated == 0
    member.refresh_from_db()
    assert member.balance == 1500
    assert list(
        member.entries.filter(kind__in=(EntryKind.REDEEM, EntryKind.REVERSAL))
        .order_by("pk")
        .values_list("kind", "amount")
    ) == [(EntryKind.REDEEM, -500), (EntryKind.REVERSAL, 500)]
    assert PendingEarn.objects.get(order=order).status == "cancelled"
    assert_ledger_balanced()
    assert list(order.notes.values_list("message", flat=True)) == [
        "The card payment was cancelled."
    ]
    assert confirmations(order) == []
    # and the member is told, once, on the channels they chose
    told = OutboxMessage.objects.filter(event_code="PAYMENT_EXPIRED")
    assert list(told.values_list("channel", "recipient", "subject")) == [
        ("email", "member@example.com", f"Your order {order.number} was cancelled")
    ]
    reconciliation.payments_reconcile(now=minutes_later(30))
    assert told.count() == 1

    # The shopper's late return finds the order cancelled, nothing charged
    page = client.get(pay_url(order))
    assert page.status_code == 200
    assert "stripe" not in page.context


# --- (d) paid just before the hold expired ---------------------------------------------------


def test_a_payment_that_succeeded_before_the_hold_expired_is_settled_not_cancelled(
    client, fake_stripe
):
    order, payment = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)

    counts = reconciliation.payments_reconcile(now=after_the_hold())

    assert counts == {**NOTHING, "refreshed": 1}
    order.refresh_from_db()
    assert order.status == "Pending"
    assert payment_events(order) == [("Paid", Decimal("25.00"))]
    assert confirmations(order) == [("email", "guest@example.com")]
    assert fake_stripe.payment_intents[payment.payment_intent_id]["status"] == "succeeded"
    assert not [p for p, _key in stripe_posts(fake_stripe) if p.endswith("/cancel")]


def test_a_payment_that_succeeds_while_the_hold_is_being_cancelled_is_settled(client, fake_stripe):
    order, payment = placed_card_order(client)
    pi_id = payment.payment_intent_id
    cancel_path = f"/v1/payment_intents/{pi_id}/cancel"
    gate = fake_stripe.hold_next("POST", cancel_path)
    paid_meanwhile = []

    def shopper_pays_while_cancel_is_in_flight():
        # Polls the fake only (no database): waits for the cancel request to reach Stripe.
        deadline = time.monotonic() + 5
        while not any(r[1] == cancel_path for r in fake_stripe.requests):
            if time.monotonic() > deadline:
                gate.set()
                return
            time.sleep(0.01)
        paid_meanwhile.append(fake_stripe.customer_pays(pi_id)["status"])
        gate.set()

    shopper = threading.Thread(target=shopper_pays_while_cancel_is_in_flight)
    shopper.start()
    counts = reconciliation.payments_reconcile(now=after_the_hold())
    shopper.join(5)

    assert paid_meanwhile == ["succeeded"]  # paid after the refresh, before the cancel ran
    assert counts == {**NOTHING, "refreshed": 1}
    assert fake_stripe.payment_intents[pi_id]["cancellation_reason"] is None
    assert fake_stripe.payment_intents[pi_id]["status"] == "succeeded"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("Pending", "succeeded")
    assert payment_events(order) == [("Paid", Decimal("25.00"))]
    assert confirmations(order) == [("email", "guest@example.com")]


# --- (e) an order marked paid whose PaymentIntent did not succeed ----------------------------


def test_an_order_marked_paid_without_a_succeeded_payment_is_flagged_once(client, fake_stripe):
    order, payment = placed_card_order(client)
    order.set_status("Pending")  # e.g. staff moved it on in the dashboard

    counts = reconciliation.payments_reconcile(now=minutes_later(3))

    assert counts == {**NOTHING, "refreshed": 1, "flagged": 1}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.needs_review, payment.status, order.status) == (
        True,
        "requires_payment_method",
        "Pending",
    )
    assert (
        payment.review_reason
        == "The order is 'Pending' but its card payment is 'Awaiting payment'."
    )

    assert reconciliation.payments_reconcile(now=minutes_later(4)) == {**NOTHING, "refreshed": 1}
    payment.refresh_from_db()
    assert payment.needs_review


# --- (f) a second run changes nothing --------------------------------------------------------


def snapshot(fake: FakeStripe) -> dict:
    return {
        "orders": sorted(Order.objects.values_list("number", "status")),
        "payments": sorted(
            StripePayment.objects.values_list(
                "payment_intent_id", "status", "amount_received", "needs_review", "order_id"
            )
        ),
        "payment events": sorted(
            get_model("order", "PaymentEvent").objects.values_list("order_id", "event_type__name")
        ),
        "outbox": OutboxMessage.objects.count(),
        "stock allocated": sorted(
            get_model("partner", "StockRecord").objects.values_list("pk", "num_allocated")
        ),
        "at stripe": sorted((k, v["status"]) for k, v in fake.payment_intents.items()),
    }


def test_reconciling_twice_changes_nothing_the_second_time(fake_stripe):
    paid, paid_payment = placed_card_order()
    fake_stripe.customer_pays(paid_payment.payment_intent_id)
    expired, _expired_payment = placed_card_order()
    orphan_unpaid = orphan_at_stripe(fake_stripe, "100911", age_seconds=300)
    orphan_paid = orphan_at_stripe(fake_stripe, "100912", age_seconds=300)
    fake_stripe.customer_pays(orphan_paid)
    now = after_the_hold()

    first = reconciliation.payments_reconcile(now=now)
    state, posts = snapshot(fake_stripe), len(stripe_posts(fake_stripe))
    second = reconciliation.payments_reconcile(now=now)

    assert first == {**NOTHING, "refreshed": 2, "released": 1, "flagged": 1, "orphans_cancelled": 1}
    assert second == NOTHING
    assert snapshot(fake_stripe) == state
    assert len(stripe_posts(fake_stripe)) == posts  # nothing asked of Stripe either
    assert dict(state["orders"]) == {paid.number: "Pending", expired.number: "Cancelled"}
    assert fake_stripe.payment_intents[orphan_unpaid]["status"] == "canceled"
    assert orphans(fake_stripe) == []
    assert StripeEvent.objects.count() == 0


# --- The beat task, through a real worker ----------------------------------------------------


def redis_db_url(db: int) -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_reconcile_task_runs_in_a_real_worker(fake_stripe):
    order, payment = placed_card_order()
    fake_stripe.customer_pays(payment.payment_intent_id)
    # Placed three minutes ago, and neither the browser nor the webhook came back.
    StripePayment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=3)
    )
    orphan = orphan_at_stripe(fake_stripe, "100921", age_seconds=300)
    # A worker of our own, on a Redis database of its own (so a session worker started by
    # other tests, which has no Stripe settings, cannot take the task), pointed at the fake.
    own_db = (int(urlsplit(settings.REDIS_URL).path.strip("/") or 0) + 8) % 16
    broker = redis_db_url(own_db)
    publisher = Celery("reconcile-test", broker=broker, backend=broker, set_as_current=False)
    publisher.control.purge()
    worker = Worker(
        broker_url=broker,
        own_broker=True,  # config.settings.test uses REDIS_URL's database + 1
        env={
            "REDIS_URL": redis_db_url((own_db - 1) % 16),
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": fake_stripe.url,
        },
        name_prefix="reconcile",
    )
    try:
        result = publisher.send_task("shop.payment.tasks.payments_reconcile").get(timeout=30)
    finally:
        worker.stop()
        publisher.close()

    assert result == {**NOTHING, "refreshed": 1, "orphans_cancelled": 1}
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("Pending", PaymentStatus.SUCCEEDED)
    assert payment_events(order) == [("Paid", Decimal("25.00"))]
    assert confirmations(order) == [("email", "guest@example.com")]
    assert fake_stripe.payment_intents[orphan]["status"] == "canceled"


def test_a_refund_made_in_stripes_dashboard_whose_webhook_was_lost_is_recorded(client, fake_stripe):
    order, payment = placed_card_order(client)
    fake_stripe.customer_pays(payment.payment_intent_id)
    reconciliation.payments_reconcile(now=minutes_later(3))  # settles the order
    refund = stripe_api(fake_stripe).v1.refunds.create(
        params={"payment_intent": payment.payment_intent_id, "amount": 700}
    )

    counts = reconciliation.payments_reconcile(now=minutes_later(4))

    assert counts == {**NOTHING, "refunds_synced": 1}
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("7.000")
    assert payment_events(order) == [("Paid", Decimal("25.00")), ("Refunded", Decimal("7.00"))]
    assert list(payment.refunds.values_list("refund_id", flat=True)) == [refund.id]
    # Recorded once: the next run finds nothing to do
    assert reconciliation.payments_reconcile(now=minutes_later(5)) == NOTHING


# --- R14: a hold expiring while the same member checks out -----------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hold_expiring_while_the_same_member_checks_out_again_does_not_deadlock(fake_stripe):
    """Release and checkout both take the member's row and the stock rows; they take them
    in the same order (member first), so running them together never deadlocks."""
    member = member_factory(email="member@example.com")
    points_credit(member=member, amount=2000, reason="Earned", idempotency_key="seed")
    first = Client()
    lamp = member_delivery_checkout(first, member.user, price="20.00", quantity=1, stock=5)
    use_points(first, 500)
    place_order(first)
    expiring = Order.objects.get()
    # The same member, on another phone, about to buy the lamp again with points
    second = Client()
    second.force_login(member.user)
    second.post(reverse("basket:add", kwargs={"pk": lamp.pk}), {"quantity": 1})
    second.post(reverse("checkout:shipping-address"), ADDRESS, follow=True)
    use_points(second, 500)

    with slow_writes("partner_stockrecord", 0.3):
        results = run_concurrently(
            [
                lambda: reconciliation.payments_reconcile(now=after_the_hold()),
                lambda: place_order(second),
            ]
        )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0]["released"] == 1
    assert results[1].status_code == 302
    expiring.refresh_from_db()
    assert expiring.status == "Cancelled"
    (new,) = Order.objects.exclude(pk=expiring.pk)
    assert new.status == "Pending payment"
    assert lamp.stockrecords.get().num_allocated == 1  # the new order's only
    member.refresh_from_db()
    assert member.balance == 1500  # 500 back from the cancelled order, 500 on the new one
    assert_ledger_balanced()
