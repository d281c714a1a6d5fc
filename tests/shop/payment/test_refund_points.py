"""Points spent on an order come back when it is refunded, in proportion to the money
refunded, with the rounding rule of earned points: floor(points x refunded / paid) on the
cumulative refund (loyalty.services.redemption.order_redemption_refund, R21)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty.models import EntryKind, Member
from loyalty.services.redemption import order_redemption_refund
from shop.payment.refunds import refund_create
from tests.shop.checkout_fixtures import ledger_balanced, pickup_with_points  # noqa: F401 (R19 after each test)
from tests.shop.payment.helpers import deliver, pay_return, stripe_api

pytestmark = pytest.mark.django_db


def card_and_points_order(client, fake_stripe):
    """A member's 12.26 pickup order: 200 points (2.00) and 10.26 paid by card."""
    order, _pickup, _shop, _response = pickup_with_points(client, method="card")
    payment = order.stripe_payment
    fake_stripe.customer_pays(payment.payment_intent_id)
    assert pay_return(client, order)["Location"] == reverse("checkout:thank-you")
    payment.refresh_from_db()
    member = Member.objects.get()
    assert (member.balance, member.pending) == (1300, 260)
    return order, payment, member


def given_back(member) -> list[tuple[int, str]]:
    return list(
        member.entries.filter(kind=EntryKind.REVERSAL, amount__gt=0)
        .order_by("pk")
        .values_list("amount", "idempotency_key")
    )


def test_partial_refunds_give_back_spent_points_in_proportion_rounded_down(client, fake_stripe):
    order, payment, member = card_and_points_order(client, fake_stripe)
    debit_key = f"redeem:order:{order.number}"

    # 1.00 of 10.26: floor(200 x 1.00 / 10.26) = floor(19.49) = 19
    refund_create(payment=payment, amount=Decimal("1.00"))
    member.refresh_from_db()
    assert member.balance == 1319
    # 5.13 in all (half): 100, so 81 more
    refund_create(payment=payment, amount=Decimal("4.13"))
    member.refresh_from_db()
    assert (member.balance, member.pending) == (1400, 130)
    # everything: every point, 100 more
    refund_create(payment=payment, amount=Decimal("5.13"))
    member.refresh_from_db()
    assert (member.balance, member.pending) == (1500, 0)
    assert given_back(member) == [
        (19, f"{debit_key}:refund:19"),
        (81, f"{debit_key}:refund:100"),
        (100, f"{debit_key}:refund:200"),
    ]

    # Applying the same refund again gives nothing
    assert (
        order_redemption_refund(
            order_number=order.number,
            refunded_total=Decimal("10.26"),
            paid_total=Decimal("10.26"),
        )
        == 0
    )
    member.refresh_from_db()
    assert member.balance == 1500


def test_a_full_refund_made_at_stripe_and_retried_by_webhook_gives_points_back_once(
    client, fake_stripe
):
    order, payment, member = card_and_points_order(client, fake_stripe)
    stripe_api(fake_stripe).v1.refunds.create(
        params={"payment_intent": payment.payment_intent_id, "amount": 1026}
    )
    (charge_refunded,) = fake_stripe.events_of_type("charge.refunded")
    (refund_created,) = fake_stripe.events_of_type("refund.created")

    outcomes = [
        deliver(client, fake_stripe, event).json()["outcome"]
        for event in (charge_refunded, charge_refunded, refund_created)
    ]

    assert outcomes == ["applied", "duplicate", "applied"]
    member.refresh_from_db()
    assert (member.balance, member.pending) == (1500, 0)
    assert given_back(member) == [(200, f"redeem:order:{order.number}:refund:200")]
