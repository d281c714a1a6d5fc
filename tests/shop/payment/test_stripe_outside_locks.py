"""No Stripe call while a row is locked (docs/architecture.md, "Lock order"): while the
offline Stripe holds our request, no session of ours has a transaction open, so no row
lock is held; and a refund whose process died between recording its attempt and recording
Stripe's answer is completed once, by reconciliation."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from shop.payment.models import StripeEvent, StripePayment, StripeRefund
from shop.payment.reconciliation import payments_reconcile
from shop.payment.refunds import RefundRefused, RefundResult, refund_create
from tests.concurrency import sessions_in_transaction
from tests.fake_stripe import FakeStripe
from tests.shop.payment.helpers import (
    FINANCE,
    NOTHING,
    deliver,
    delivery_checkout,
    paid_delivery_order,
    pay_url,
    place_order,
    staff_client,
    stripe_api,
)

Order = get_model("order", "Order")

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def while_stripe_holds(fake: FakeStripe, method: str, path: str, call, look):
    """Run `call` in a thread; once Stripe holds its `method path` request, run `look`
    here; then let Stripe answer. Returns (what `call` returned or raised, what `look`
    returned)."""
    before = len([r for r in fake.requests if r[:2] == (method, path)])
    gate = fake.hold_next(method, path)
    outcome: list[object] = []

    def work():
        try:
            outcome.append(call())
        except Exception as exc:  # reported to the test, which asserts on it
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len([r for r in fake.requests if r[:2] == (method, path)]) == before:
            assert time.monotonic() < deadline, f"{method} {path} never reached Stripe"
            time.sleep(0.02)
        seen = look()
    finally:
        gate.set()
        thread.join(10)
    return outcome[0], seen


def refunds_recorded() -> list[tuple[str, Decimal]]:
    return list(StripeRefund.objects.order_by("pk").values_list("status", "amount"))


def test_a_refund_is_asked_of_stripe_with_nothing_locked_and_its_amount_set_aside(
    fake_stripe, settings
):
    order, payment = paid_delivery_order(Client(), fake_stripe)  # 25.00 EUR
    settings.STRIPE_TIMEOUT = 10

    def look():
        # Meanwhile staff try to refund more than what the refund on its way leaves.
        with pytest.raises(RefundRefused, match="At most €5.00 can still be refunded."):
            refund_create(payment=payment, amount=Decimal("10.00"))
        return sessions_in_transaction(), refunds_recorded()

    result, (open_transactions, recorded) = while_stripe_holds(
        fake_stripe,
        "POST",
        "/v1/refunds",
        lambda: refund_create(payment=payment, amount=Decimal("20.00")),
        look,
    )

    assert open_transactions == 0
    assert recorded == [("sending", Decimal("20.000"))]  # committed before Stripe was asked
    assert isinstance(result, RefundResult), result
    assert result.completed_earlier is False
    (refund,) = fake_stripe.refunds.values()
    assert (result.refund.refund_id, result.refund.status) == (refund["id"], "succeeded")
    assert refunds_recorded() == [("succeeded", Decimal("20.000"))]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("20.000")
    assert list(
        order.payment_events.filter(event_type__name="Refunded").values_list("amount", flat=True)
    ) == [Decimal("20.00")]


def test_a_paid_order_cancelled_by_staff_is_refunded_after_its_cancellation_commits(fake_stripe):
    order, payment = paid_delivery_order(Client(), fake_stripe)  # 25.00 EUR
    staff = staff_client(*FINANCE, "order.change_order")

    def cancel():
        return staff.post(
            reverse("dashboard:order-detail", kwargs={"number": order.number}),
            {"order_action": "change_order_status", "new_status": "Cancelled"},
        )

    def look():
        status = Order.objects.get(pk=order.pk).status
        return sessions_in_transaction(), status, refunds_recorded()

    response, (open_transactions, status, recorded) = while_stripe_holds(
        fake_stripe, "POST", "/v1/refunds", cancel, look
    )

    assert getattr(response, "status_code", response) == 302
    assert open_transactions == 0
    # The cancellation committed, its refund reserved, before Stripe was asked.
    assert (status, recorded) == ("Cancelled", [("sending", Decimal("25.000"))])
    assert refunds_recorded() == [("succeeded", Decimal("25.000"))]
    payment.refresh_from_db()
    assert (payment.amount_refunded, payment.needs_review) == (Decimal("25.000"), False)


def test_a_refund_webhook_reads_stripe_before_it_records_or_locks_anything(
    client, fake_stripe, settings
):
    order, payment = paid_delivery_order(client, fake_stripe)
    settings.STRIPE_TIMEOUT = 10
    refund = stripe_api(fake_stripe).v1.refunds.create(  # Stripe's dashboard
        params={"payment_intent": payment.payment_intent_id, "amount": 500}
    )
    (charge_refunded,) = fake_stripe.events_of_type("charge.refunded")

    response, (open_transactions, events) = while_stripe_holds(
        fake_stripe,
        "GET",
        "/v1/refunds",
        lambda: deliver(Client(), fake_stripe, charge_refunded),
        lambda: (sessions_in_transaction(), StripeEvent.objects.count()),
    )

    assert (open_transactions, events) == (0, 0)
    assert response.json() == {"received": True, "outcome": "applied"}
    assert list(StripeRefund.objects.values_list("refund_id", "amount")) == [
        (refund.id, Decimal("5.000"))
    ]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("5.000")
    assert list(StripeEvent.objects.values_list("id", flat=True)) == [charge_refunded["id"]]


def test_the_payment_intent_is_created_before_the_basket_is_locked(fake_stripe, settings):
    client = Client()
    delivery_checkout(client)
    settings.STRIPE_TIMEOUT = 10

    response, open_transactions = while_stripe_holds(
        fake_stripe,
        "POST",
        "/v1/payment_intents",
        lambda: place_order(client),
        sessions_in_transaction,
    )

    assert open_transactions == 0
    order = Order.objects.get()
    assert response["Location"] == pay_url(order)
    payment = StripePayment.objects.get(order=order)
    assert list(fake_stripe.payment_intents) == [payment.payment_intent_id]


def a_crash_left(payment) -> tuple[StripeRefund, str]:
    """What a process that died after recording its refund attempt (step 1, committed)
    and before recording Stripe's answer leaves here: the attempt, still "sending".
    Returns (attempt, its key)."""
    key = f"re:{payment.payment_intent_id}:1:1000"
    attempt = StripeRefund.objects.create(
        payment=payment, idempotency_key=key, amount=Decimal("10.00"), status="sending"
    )
    return attempt, key


def refund_posts(fake) -> list[str | None]:
    return [r[3] for r in fake.requests if r[:2] == ("POST", "/v1/refunds")]


def test_a_refund_stripe_made_before_the_process_died_is_recorded_once(fake_stripe):
    order, payment = paid_delivery_order(Client(), fake_stripe)
    attempt, key = a_crash_left(payment)
    # Its request reached Stripe, which made the refund (the request refunds.py sends)
    made = stripe_api(fake_stripe).v1.refunds.create(
        params={
            "payment_intent": payment.payment_intent_id,
            "amount": 1000,
            "metadata": {"order_number": order.number, "attempt": key},
        },
        options={"idempotency_key": key},
    )
    later = timezone.now() + dt.timedelta(minutes=3)

    first = payments_reconcile(now=later)
    second = payments_reconcile(now=later)

    assert first == {**NOTHING, "refunds_synced": 1}
    assert second == NOTHING
    assert refund_posts(fake_stripe) == [key]  # the one request the dead process sent
    assert list(StripeRefund.objects.values_list("pk", "refund_id", "status", "amount")) == [
        (attempt.pk, made.id, "succeeded", Decimal("10.000"))
    ]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("10.000")
    assert order.payment_events.filter(event_type__name="Refunded").count() == 1


def test_a_refund_stripe_never_got_before_the_process_died_is_made_once(fake_stripe):
    order, payment = paid_delivery_order(Client(), fake_stripe)
    attempt, key = a_crash_left(payment)  # its request never reached Stripe
    assert refund_create(payment=payment, amount=Decimal("5.00")).refund.amount == Decimal(
        "5.00"
    )  # still on its way as far as anyone knows: 10.00 stays set aside, 5.00 can go
    later = timezone.now() + dt.timedelta(minutes=3)

    first = payments_reconcile(now=later)
    second = payments_reconcile(now=later)

    assert first == {**NOTHING, "refunds_confirmed": 1}
    assert second == NOTHING
    assert refund_posts(fake_stripe) == [f"re:{payment.payment_intent_id}:2:500", key]
    assert sorted(r["amount"] for r in fake_stripe.refunds.values()) == [500, 1000]
    attempt.refresh_from_db()
    assert (attempt.status, attempt.amount) == ("succeeded", Decimal("10.000"))
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("15.000")
    assert order.payment_events.filter(event_type__name="Refunded").count() == 2
