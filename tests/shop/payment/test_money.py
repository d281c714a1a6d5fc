"""R8: one converter between Decimal amounts and Stripe's minor units, and an order is only
confirmed when Stripe received exactly its total."""

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st
from oscar.core.loading import get_model

from shop.communication.models import OutboxMessage
from shop.payment.models import PaymentStatus, StripePayment
from shop.payment.money import AmountError, from_minor, minor_exponent, to_minor
from tests.shop.payment.helpers import (
    delivery_checkout,
    pay_return,
    place_order,
    stripe_api,
    webhook,
)

Order = get_model("order", "Order")

TWO = ["EUR", "USD", "GBP", "CHF"]
ZERO = ["JPY", "KRW", "VND", "CLP"]
THREE = ["KWD", "BHD", "JOD", "OMR", "TND"]
CURRENCIES = st.sampled_from(TWO + ZERO + THREE).flatmap(
    lambda code: st.sampled_from([code, code.lower()])
)
MAX_MINOR = 10**12


def test_the_currencies_have_the_exponents_stripe_uses():
    assert [minor_exponent(c) for c in ("EUR", "usd", "JPY", "krw", "KWD", "bhd")] == [
        2,
        2,
        0,
        0,
        3,
        3,
    ]


@st.composite
def representable(draw):
    """(currency, minor units Stripe accepts for it)."""
    currency = draw(CURRENCIES)
    minor = draw(st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR))
    if minor_exponent(currency) == 3:
        minor -= minor % 10  # Stripe takes thousandths only in multiples of ten
    return currency, minor


@given(representable())
@example(("JPY", 0))
@example(("KRW", 1))
@example(("EUR", 1))
@example(("KWD", 10))
@example(("BHD", 1230))
def test_minor_units_round_trip(case):
    currency, minor = case
    amount = from_minor(minor, currency)

    assert isinstance(amount, Decimal)
    assert amount.as_tuple().exponent == -minor_exponent(currency)
    assert to_minor(amount, currency) == minor
    assert from_minor(to_minor(amount, currency), currency) == amount


@given(representable(), st.integers(min_value=0, max_value=3))
def test_decimal_amounts_round_trip_whatever_their_trailing_zeros(case, extra_zeros):
    currency, minor = case
    # The shop's Decimals may carry more trailing zeros than the currency (25.000 EUR).
    amount = from_minor(minor, currency)
    padded = amount.quantize(Decimal(1).scaleb(amount.as_tuple().exponent - extra_zeros))

    assert padded == amount
    assert to_minor(padded, currency) == minor
    assert from_minor(to_minor(padded, currency), currency) == padded


@given(
    CURRENCIES,
    st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR),
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=1, max_value=3),
)
@example("JPY", 100, 5, 1)  # 100.5 JPY
@example("EUR", 1234, 5, 1)  # 12.345 EUR
@example("KWD", 1000, 1, 1)  # 1.0001 KWD
def test_more_decimals_than_the_currency_raise(currency, minor, digit, extra):
    exponent = minor_exponent(currency) + extra
    amount = Decimal(minor * 10**extra + digit).scaleb(-exponent)

    with pytest.raises(AmountError):
        to_minor(amount, currency)


@given(
    st.sampled_from(THREE),
    st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR),
    st.integers(min_value=1, max_value=9),
)
@example("KWD", 1000, 5)  # 1.005 KWD
@example("BHD", 0, 1)  # 0.001 BHD
def test_three_decimal_currencies_take_only_multiples_of_ten_minor_units(currency, tens, unit):
    amount = Decimal(tens * 10 + unit).scaleb(-3)

    with pytest.raises(AmountError, match="multiples of 0.010"):
        to_minor(amount, currency)
    assert to_minor(Decimal(tens * 10).scaleb(-3), currency) == tens * 10


@pytest.mark.parametrize(
    "amount",
    [12.5, 12, "12.50", None, Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")],
    ids=repr,
)
def test_to_minor_takes_only_finite_decimals(amount):
    with pytest.raises(AmountError):
        to_minor(amount, "EUR")


@pytest.mark.parametrize("value", [12.0, "1250", Decimal("1250"), True, None], ids=repr)
def test_from_minor_takes_only_ints(value):
    with pytest.raises(AmountError):
        from_minor(value, "EUR")


# --- The amount received must be the order total --------------------------------------------


def _order_placed_messages() -> int:
    return OutboxMessage.objects.filter(event_code="ORDER_PLACED").count()


def _assert_held_for_review(order, payment):
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "Payment review"
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.needs_review is True
    assert payment.review_reason.startswith("Received ")
    assert not order.payment_events.filter(event_type__name="Paid").exists()
    assert order.sources.get().amount_debited == Decimal("0.00")
    assert _order_placed_messages() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "received"),
    [
        ({"amount_received": 2400}, "24.00 EUR"),
        ({"amount_received": 2600}, "26.00 EUR"),
        ({"currency": "usd"}, "25.00 USD"),
        ({"currency": "jpy"}, "2500 JPY"),
    ],
)
def test_a_webhook_with_another_amount_or_currency_holds_the_order(
    client, fake_stripe, change, received
):
    delivery_checkout(client)  # 2 x 12.50 EUR
    place_order(client)
    order = Order.objects.get()
    payment = StripePayment.objects.get(order=order)
    intent = fake_stripe.customer_pays(payment.payment_intent_id)
    assert (intent["amount_received"], intent["currency"]) == (2500, "eur")

    response, _event = webhook(
        client, fake_stripe, "payment_intent.succeeded", {**intent, **change}
    )

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "applied"}
    _assert_held_for_review(order, payment)
    assert f"Received {received} for an order of 25.000 EUR." == payment.review_reason


@pytest.mark.django_db
def test_the_return_after_the_intent_was_changed_at_stripe_holds_the_order(client, fake_stripe):
    delivery_checkout(client)
    place_order(client)
    order = Order.objects.get()
    payment = StripePayment.objects.get(order=order)
    # Someone raises the amount at Stripe before the shopper pays (the shop never does)
    stripe_api(fake_stripe).v1.payment_intents.update(
        payment.payment_intent_id, params={"amount": 3000}
    )
    fake_stripe.customer_pays(payment.payment_intent_id)

    back = pay_return(client, order)

    assert back.status_code == 302
    assert back["Location"] == reverse("checkout:thank-you")  # paid; staff check the amount
    _assert_held_for_review(order, payment)
    assert payment.amount_received == Decimal("30.000")
    assert "Received 30.00 EUR for an order of 25.000 EUR" in payment.review_reason

    # A later webhook for the same PaymentIntent changes nothing
    intent = fake_stripe.payment_intents[payment.payment_intent_id]
    webhook(client, fake_stripe, "payment_intent.succeeded", intent)
    _assert_held_for_review(order, payment)
