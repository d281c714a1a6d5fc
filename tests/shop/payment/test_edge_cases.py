"""Edge cases of card payments found in review: refunds and points, staff cancelling an
unpaid order, a refund attempt Stripe refuses on replay, malformed signed events, a retry
with other details, and what a shopper may be shown of Stripe's errors."""

import contextlib
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.models import PendingEarn
from loyalty.services.ledger import points_credit
from shop.payment import reconciliation
from shop.payment.models import StripePayment, StripeRefund
from shop.payment.refunds import RefundRefused, refund_create
from tests.loyalty.factories import member_factory
from tests.shop.payment.helpers import (
    deliver,
    delivery_checkout,
    member_delivery_checkout,
    paid_delivery_order,
    pay_cancel,
    pay_return,
    place_order,
    staff_client,
    stripe_api,
)

Order = get_model("order", "Order")
Basket = get_model("basket", "Basket")

pytestmark = pytest.mark.django_db


def test_refund_amount_finer_than_the_currency_is_refused_not_a_server_error(
    fake_stripe,
):
    """RefundForm accepts 3 decimals, but EUR has 2: to_minor() raises AmountError inside
    _refund_locked, which nobody catches -> HTTP 500 instead of an error message."""
    order, payment = paid_delivery_order(Client(), fake_stripe)  # 25.00 EUR
    finance = staff_client(
        "order.view_order", "payment.add_striperefund", raise_request_exception=False
    )

    response = finance.post(
        reverse("payment-dashboard:refund", kwargs={"pk": payment.pk}),
        {"amount": "1.005", "reason": "typo"},
    )

    assert response.status_code == 302, response.status_code
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    assert StripeRefund.objects.count() == 0
    assert fake_stripe.refunds == {}


def test_refunding_a_card_order_takes_back_the_points_it_earned(client, fake_stripe):
    """R21: a refund reverses the proportional points. loyalty.services.earning.
    order_points_refund exists but no payment code calls it, so a fully refunded card
    order keeps all its pending points (and they confirm after the return window)."""
    shopper = member_factory(email="member@example.com")
    points_credit(member=shopper, amount=10, reason="Earned", idempotency_key="seed")
    member_delivery_checkout(client, shopper.user, price="20.00")
    place_order(client)
    order = Order.objects.get()
    payment = StripePayment.objects.get(order=order)
    fake_stripe.customer_pays(payment.payment_intent_id)
    pay_return(client, order)
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    pending = PendingEarn.objects.get(order=order)
    assert pending.remaining > 0

    refund_create(payment=payment, amount=Decimal("20.00"), reason="returned")

    pending.refresh_from_db()
    assert (pending.refunded_amount, pending.remaining) == (Decimal("20.00"), 0)


def test_cancel_refused_by_stripe_while_processing_does_not_claim_cancelled(client, fake_stripe):
    """Stripe refuses to cancel a PaymentIntent that is processing (cards: always). The
    cancel view then gets 'processing' back, yet tells the shopper the order is cancelled
    and nothing was charged, and refills the basket -- while the money is still coming
    and the order is still 'Pending payment' (it will be paid and shipped). A shopper who
    re-orders from the refilled basket pays twice."""
    delivery_checkout(client)
    place_order(client)
    order = Order.objects.get()
    payment = StripePayment.objects.get(order=order)
    fake_stripe.process(payment.payment_intent_id)
    # Stripe's answer to cancelling a processing card payment: 400, nothing changes.
    fake_stripe.fail_next(
        "POST", f"/v1/payment_intents/{payment.payment_intent_id}/cancel", 400, after_commit=False
    )

    response = pay_cancel(client, order)

    order.refresh_from_db()
    assert order.status == "Pending payment"
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == [
        "Your payment is already being processed, so this order cannot be cancelled now; "
        "we email you as soon as it is confirmed."
    ]
    assert response["Location"] == reverse("checkout:pay", kwargs={"order_number": order.number})
    basket = Basket.objects.filter(owner=None, status="Open").order_by("-pk").first()
    restored = basket.num_lines if basket is not None else 0
    assert restored == 0


def test_staff_cancelling_an_unpaid_card_order_releases_its_stock(client, fake_stripe, settings):
    """OSCAR_ORDER_STATUS_PIPELINE lets staff move 'Pending payment' to 'Cancelled' from
    Oscar's order page. That bypasses order_release: the stock stays allocated, and when
    the hold expires _release() skips the order because it is already 'Cancelled', so the
    allocation is never given back (nor the PaymentIntent cancelled until then)."""
    settings.PAYMENT_HOLD_MINUTES = 20
    beans = delivery_checkout(client, quantity=2, stock=5)
    place_order(client)
    order = Order.objects.get()
    record = beans.stockrecords.get()
    assert record.num_allocated == 2
    # what the order page asks of those who change orders (shop/dashboard/orders/views.py)
    ops = staff_client("order.view_order", "order.change_order", raise_request_exception=False)

    ops.post(
        reverse("dashboard:order-detail", kwargs={"number": order.number}),
        {"order_action": "change_order_status", "new_status": "Cancelled"},
    )
    order.refresh_from_db()
    assert order.status == "Cancelled"
    reconciliation.payments_reconcile(now=timezone.now() + timezone.timedelta(minutes=21))

    record.refresh_from_db()
    assert record.num_allocated == 0
    payment = StripePayment.objects.get(order=order)
    assert fake_stripe.payment_intents[payment.payment_intent_id]["status"] == "canceled"


def test_a_refund_attempt_stripe_refuses_on_replay_does_not_block_refunds_forever(
    client, fake_stripe, settings
):
    """A refund whose request failed with a 5xx before reaching Stripe is kept as
    'requested'. If Stripe later refuses its replay (here: 20.00 of 25.00 was refunded
    in Stripe's dashboard meanwhile, so 10.00 no longer fits), _refund_locked raises
    RefundRefused for it every time and never marks it failed: no refund of this payment
    can be made from our dashboard ever again, and reconciliation retries it forever."""
    order, payment = paid_delivery_order(client, fake_stripe)  # 25.00 EUR
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    fake_stripe.fail_next("POST", "/v1/refunds", 500, after_commit=False)
    with pytest.raises(RefundRefused):
        refund_create(payment=payment, amount=Decimal("10.00"))
    assert fake_stripe.refunds == {}  # nothing happened at Stripe

    stripe_api(fake_stripe).v1.refunds.create(
        params={"payment_intent": payment.payment_intent_id, "amount": 2000}
    )
    (charge_refunded,) = fake_stripe.events_of_type("charge.refunded")
    assert deliver(client, fake_stripe, charge_refunded).status_code == 200

    # Staff refund what is left (a first click may report the stale attempt's failure)
    with contextlib.suppress(RefundRefused):
        refund_create(payment=payment, amount=Decimal("5.00"))
    refund_create(payment=payment, amount=Decimal("5.00"))

    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("25.000")
    assert not StripeRefund.objects.filter(status=StripeRefund.REQUESTED).exists()


@pytest.mark.parametrize("body", [b"[]", b'"x"', b'{"id": "evt_x", "object": "event"}'])
def test_signed_but_malformed_event_is_a_client_error_not_a_crash(client, fake_stripe, body):
    """A body with a valid signature that is JSON but not an Event (a list, a string, an
    object without type/data) raises inside construct_event or webhook_process -> 500,
    which Stripe retries for days. It should be refused with a 4xx (or acknowledged)."""
    response = Client(raise_request_exception=False).post(
        reverse("stripe-webhook"),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=fake_stripe.sign(body),
    )
    assert response.status_code < 500, response.status_code


def test_retrying_place_order_after_a_lost_answer_with_another_email_still_works(
    client, fake_stripe, settings
):
    """The key pi:<number>:<amount>:<currency> is deterministic, but the parameters sent
    under it are not: receipt_email (and the translated description) can change between
    two tries of the same basket. Stripe answers a key reused with other parameters with
    a 400 idempotency_error (for 24 h), which card_payment_start turns into PaymentError:
    this basket can no longer be paid by card. Here a guest corrects their email address
    after a timeout."""
    settings.STRIPE_TIMEOUT = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    delivery_checkout(client)  # guest@example.com
    fake_stripe.timeout_next("POST", "/v1/payment_intents")  # Stripe makes it, answer lost
    assert place_order(client).status_code == 200  # "no payment taken", try again
    assert len(fake_stripe.payment_intents) == 1

    client.post(
        reverse("checkout:index"), {"username": "guest2@example.com", "options": "anonymous"}
    )
    response = place_order(client)

    order = Order.objects.filter().first()
    assert order is not None, "no order: Stripe answered 400 idempotency_error"
    assert response["Location"] == reverse("checkout:pay", kwargs={"order_number": order.number})


def test_stripe_error_text_is_not_shown_to_the_shopper(client, fake_stripe, settings):
    """gateway._call shows `exc.user_message` for any StripeError, and stripe-python's
    user_message is simply Stripe's raw error message (developer text: API key hints,
    idempotency keys, parameter names). The pay page renders it to the shopper. Only a
    card decline's message is meant for shoppers; anything else should be generic."""
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    delivery_checkout(client)
    place_order(client)
    order = Order.objects.get()
    settings.STRIPE_SECRET_KEY = "sk_live_revoked_000000000001234"  # a rolled key

    page = client.get(reverse("checkout:pay", kwargs={"order_number": order.number}))

    text = page.content.decode()
    assert page.status_code == 200
    assert "API Key" not in text, text[text.find("alert-warning") :][:300]
