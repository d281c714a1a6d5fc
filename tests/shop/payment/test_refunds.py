"""R10: refunds never exceed what was received -- concurrently, after timeouts, and when
made in Stripe's dashboard."""

from decimal import Decimal

import pytest
from django.test import Client
from oscar.core.loading import get_model

from shop.payment.models import StripePayment, StripeRefund
from shop.payment.refunds import RefundRefused, RefundResult, refund_create
from tests.concurrency import hold_row_locks, run_concurrently
from tests.shop.payment.helpers import deliver, paid_delivery_order, stripe_api

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db


def refund_posts(fake) -> list[tuple[str, str, dict, str | None]]:
    return [r for r in fake.requests if r[0] == "POST" and r[1] == "/v1/refunds"]


def refunded_events(order) -> list[tuple[Decimal, str]]:
    return list(
        order.payment_events.filter(event_type__name="Refunded")
        .order_by("pk")
        .values_list("amount", "reference")
    )


def card_source(order):
    return order.sources.get(source_type__code="stripe-card")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_ten_percent_refunds_never_exceed_the_charge(fake_stripe):
    order, payment = paid_delivery_order(Client(), fake_stripe)  # 25.00 EUR
    tenth = Decimal("2.50")

    def refund():
        return refund_create(
            payment=StripePayment.objects.get(pk=payment.pk), amount=tenth, reason="test"
        )

    results = run_concurrently(
        [refund] * 20,
        lock=hold_row_locks("payment_stripepayment", [payment.pk]),
        until_blocked=20,
    )

    done = [r for r in results if isinstance(r, RefundResult)]
    refused = [r for r in results if isinstance(r, RefundRefused)]
    assert (len(done), len(refused)) == (10, 10), results
    assert {r.message for r in refused} == {"At most €0.00 can still be refunded."}
    payment.refresh_from_db()
    assert payment.amount_refunded == payment.amount_received == Decimal("25.000")
    at_stripe = list(fake_stripe.refunds.values())
    assert len(at_stripe) == 10
    assert sum(r["amount"] for r in at_stripe) == 2500
    charge = fake_stripe.charges[
        fake_stripe.payment_intents[payment.payment_intent_id]["latest_charge"]
    ]
    assert (charge["amount_refunded"], charge["refunded"]) == (2500, True)
    assert sorted(StripeRefund.objects.values_list("refund_id", flat=True)) == sorted(
        r["id"] for r in at_stripe
    )
    # One key per refund, in sequence
    assert sorted(r[3] for r in refund_posts(fake_stripe)) == sorted(
        f"re:{payment.payment_intent_id}:{n}:250" for n in range(1, 11)
    )
    events = refunded_events(order)
    assert len(events) == 10
    assert {amount for amount, _ref in events} == {tenth}
    source = card_source(order)
    assert (source.amount_debited, source.amount_refunded) == (Decimal("25.00"), Decimal("25.00"))


def test_refunding_more_than_is_left_is_refused_and_records_nothing(client, fake_stripe):
    order, payment = paid_delivery_order(client, fake_stripe)

    with pytest.raises(RefundRefused, match="At most €25.00 can still be refunded."):
        refund_create(payment=payment, amount=Decimal("25.01"))

    assert fake_stripe.refunds == {}
    assert refund_posts(fake_stripe) == []
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("0")
    assert not StripeRefund.objects.exists()
    assert refunded_events(order) == []

    # After a partial refund, only the rest can go
    refund_create(payment=payment, amount=Decimal("20.00"))
    with pytest.raises(RefundRefused, match="At most €5.00 can still be refunded."):
        refund_create(payment=payment, amount=Decimal("5.01"))
    for amount in (Decimal("0"), Decimal("-1.00")):
        with pytest.raises(RefundRefused, match="Enter an amount above zero."):
            refund_create(payment=payment, amount=amount)
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("20.000")
    assert len(fake_stripe.refunds) == 1
    assert refunded_events(order) == [(Decimal("20.00"), next(iter(fake_stripe.refunds)))]


def test_a_refund_timing_out_after_stripe_made_it_is_recorded_once_on_retry(
    client, fake_stripe, settings
):
    order, payment = paid_delivery_order(client, fake_stripe)
    settings.STRIPE_TIMEOUT = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0  # staff retry, not the library
    fake_stripe.timeout_next("POST", "/v1/refunds")

    with pytest.raises(RefundRefused, match="did not answer"):
        refund_create(payment=payment, amount=Decimal("10.00"))

    assert len(fake_stripe.refunds) == 1  # Stripe made it
    # we do not know yet: the attempt is kept, unconfirmed, with its key
    attempt = StripeRefund.objects.get()
    assert (attempt.status, attempt.refund_id, attempt.amount) == (
        "requested",
        None,
        Decimal("10.000"),
    )

    refund_create(payment=payment, amount=Decimal("10.00"))  # staff click again

    (refund,) = fake_stripe.refunds.values()
    assert refund["amount"] == 1000
    key = f"re:{payment.payment_intent_id}:1:1000"
    assert [r[3] for r in refund_posts(fake_stripe)] == [key, key]
    assert list(StripeRefund.objects.values_list("refund_id", "amount")) == [
        (refund["id"], Decimal("10.000"))
    ]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("10.000")
    assert refunded_events(order) == [(Decimal("10.00"), refund["id"])]


@pytest.mark.usefixtures("fast_retries")
def test_library_retries_after_a_refund_timeout_make_one_refund(client, fake_stripe, settings):
    order, payment = paid_delivery_order(client, fake_stripe)
    settings.STRIPE_TIMEOUT = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    fake_stripe.timeout_next("POST", "/v1/refunds")

    refund_create(payment=payment, amount=Decimal("10.00"))

    assert len(fake_stripe.refunds) == 1
    assert len(refund_posts(fake_stripe)) == 2
    assert StripeRefund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("10.000")
    assert len(refunded_events(order)) == 1


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(client, fake_stripe):
    order, payment = paid_delivery_order(client, fake_stripe)

    # Someone refunds 5.00 in Stripe's dashboard; Stripe tells us by webhook
    refund = stripe_api(fake_stripe).v1.refunds.create(
        params={"payment_intent": payment.payment_intent_id, "amount": 500}
    )
    (charge_refunded,) = fake_stripe.events_of_type("charge.refunded")
    (refund_created,) = fake_stripe.events_of_type("refund.created")

    first = deliver(client, fake_stripe, charge_refunded)
    again = deliver(client, fake_stripe, charge_refunded)  # Stripe redelivers
    other = deliver(client, fake_stripe, refund_created)  # another event, same refund

    assert [r.json()["outcome"] for r in (first, again, other)] == [
        "applied",
        "duplicate",
        "applied",
    ]
    assert list(StripeRefund.objects.values_list("refund_id", "amount", "reason")) == [
        (refund.id, Decimal("5.000"), "Refunded at Stripe")
    ]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("5.000")
    assert refunded_events(order) == [(Decimal("5.00"), refund.id)]
    assert card_source(order).amount_refunded == Decimal("5.00")

    # What is left can still be refunded from our side, and no more
    refund_create(payment=payment, amount=Decimal("20.00"))
    with pytest.raises(RefundRefused):
        refund_create(payment=payment, amount=Decimal("0.01"))
    payment.refresh_from_db()
    assert payment.amount_refunded == payment.amount_received
    assert sum(r["amount"] for r in fake_stripe.refunds.values()) == 2500


def test_a_lost_refund_answer_confirmed_by_webhook_is_never_refunded_twice(
    client, fake_stripe, settings
):
    """Staff refund 10.00, Stripe makes it but the answer is lost; its webhook arrives;
    staff, unsure, click again: the customer gets 10.00 back, once."""
    order, payment = paid_delivery_order(client, fake_stripe)
    settings.STRIPE_TIMEOUT = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    fake_stripe.timeout_next("POST", "/v1/refunds")
    with pytest.raises(RefundRefused, match="asking again completes that same refund"):
        refund_create(payment=payment, amount=Decimal("10.00"))
    (refund_created,) = fake_stripe.events_of_type("refund.created")

    deliver(client, fake_stripe, refund_created)
    again = refund_create(payment=payment, amount=Decimal("10.00"))

    assert again.completed_earlier is False  # the webhook had confirmed it: a new refund
    assert sorted(r["amount"] for r in fake_stripe.refunds.values()) == [1000, 1000]
    first = StripeRefund.objects.order_by("pk").first()
    assert (first.status, first.refund_id) == ("succeeded", refund_created["data"]["object"]["id"])


def test_asking_again_after_a_lost_answer_completes_that_refund_not_the_new_amount(
    client, fake_stripe, settings
):
    order, payment = paid_delivery_order(client, fake_stripe)
    settings.STRIPE_TIMEOUT = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    fake_stripe.timeout_next("POST", "/v1/refunds")
    with pytest.raises(RefundRefused):
        refund_create(payment=payment, amount=Decimal("10.00"))

    # Staff, unsure, now ask for 5.00: the earlier 10.00 is completed instead
    result = refund_create(payment=payment, amount=Decimal("5.00"))

    assert result.completed_earlier is True
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [1000]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("10.000")
    assert list(StripeRefund.objects.values_list("status", "amount")) == [
        ("succeeded", Decimal("10.000"))
    ]
    assert refunded_events(order) == [(Decimal("10.00"), result.refund.refund_id)]
