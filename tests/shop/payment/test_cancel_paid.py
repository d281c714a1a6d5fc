"""A paid order cancelled by staff on Oscar's order page: one service
(shop.payment.release.order_cancelled_paid) refunds the card in full, releases stock and
pickup slot, and reverses points (README "Cancellations and refunds")."""

from decimal import Decimal

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from loyalty.models import Member, PendingEarn, PendingStatus
from shop.payment.models import StripePayment
from shop.payment.release import order_cancelled_paid
from stores.models import PickupSlot, PickupStatus
from tests.shop.checkout_fixtures import ledger_balanced, pickup_with_points  # noqa: F401 (R19 after each test)
from tests.shop.payment.helpers import (
    FINANCE,
    paid_delivery_order,
    pay_return,
    payment_events,
    staff_client,
)

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db


def staff_cancels(order) -> None:
    staff = staff_client(*FINANCE, "order.change_order")
    response = staff.post(
        reverse("dashboard:order-detail", kwargs={"number": order.number}),
        {"order_action": "change_order_status", "new_status": "Cancelled"},
    )
    assert response.status_code == 302, response.content[:300]
    order.refresh_from_db()
    assert order.status == "Cancelled"


def refund_posts(fake) -> list[str | None]:
    return [r[3] for r in fake.requests if r[0] == "POST" and r[1] == "/v1/refunds"]


def notes(order) -> list[str]:
    return list(order.notes.filter(note_type="System").values_list("message", flat=True))


def test_a_card_paid_delivery_order_is_refunded_and_its_stock_released(client, fake_stripe):
    order, payment = paid_delivery_order(client, fake_stripe)  # 2 x 12.50
    record = StockRecord.objects.get()
    assert (record.num_in_stock, record.num_allocated) == (5, 2)

    staff_cancels(order)

    key = f"re:{payment.payment_intent_id}:cancel"
    assert refund_posts(fake_stripe) == [key]
    (refund,) = fake_stripe.refunds.values()
    assert refund["amount"] == 2500
    payment.refresh_from_db()
    assert (payment.amount_refunded, payment.needs_review) == (Decimal("25.000"), False)
    assert payment_events(order) == [("Paid", Decimal("25.00")), ("Refunded", Decimal("25.00"))]
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (5, 0)
    assert "Cancelled; €25.00 refunded to the card." in notes(order)

    # Run again (a retried cancellation): nothing more is refunded or released
    order_cancelled_paid(Order.objects.get(pk=order.pk))
    assert refund_posts(fake_stripe) == [key]
    record.refresh_from_db()
    assert record.num_allocated == 0


def test_a_refund_stripe_refuses_leaves_the_order_cancelled_and_flagged(client, fake_stripe):
    order, payment = paid_delivery_order(client, fake_stripe)
    fake_stripe.fail_next("POST", "/v1/refunds", status=400, after_commit=False)

    staff_cancels(order)

    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("0")
    assert payment.needs_review
    assert payment.review_reason.startswith("Order cancelled, but not refunded in full (")
    assert StockRecord.objects.get().num_allocated == 0


def test_pay_at_pickup_with_points_releases_slot_stock_and_points(client):
    order, pickup, shop, _response = pickup_with_points(client)  # 12.26: 200 points + 10.26
    member = Member.objects.get()
    assert (member.balance, member.pending) == (1300, 260)  # earned, with its bonuses
    record = StockRecord.objects.get(partner__name="Centre")
    assert record.num_allocated == 1
    assert PickupSlot.objects.get().booked == 1

    staff_cancels(order)

    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.CANCELLED
    assert PickupSlot.objects.get().booked == 0
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (5, 0)
    member.refresh_from_db()
    assert (member.balance, member.pending) == (1500, 0)
    assert PendingEarn.objects.get().status == PendingStatus.CANCELLED
    assert not StripePayment.objects.exists()  # nothing was taken, nothing to refund
    at_pickup = order.sources.get(source_type__code="pay-at-pickup")
    assert (at_pickup.amount_debited, at_pickup.amount_refunded) == (Decimal("0"), Decimal("0"))


def test_card_and_points_pickup_is_refunded_and_gives_every_point_back(client, fake_stripe):
    order, pickup, shop, _response = pickup_with_points(client, method="card")
    payment = order.stripe_payment
    fake_stripe.customer_pays(payment.payment_intent_id)
    assert pay_return(client, order)["Location"] == reverse("checkout:thank-you")
    member = Member.objects.get()
    assert (member.balance, member.pending) == (1300, 260)

    staff_cancels(order)

    assert refund_posts(fake_stripe) == [f"re:{payment.payment_intent_id}:cancel"]
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [1026]
    payment.refresh_from_db()
    assert (payment.amount_refunded, payment.needs_review) == (Decimal("10.260"), False)
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.CANCELLED
    assert PickupSlot.objects.get().booked == 0
    assert StockRecord.objects.get(partner__name="Centre").num_allocated == 0
    member.refresh_from_db()
    assert (member.balance, member.pending) == (1500, 0)
    # The 200 points came back once, by the refund (in full: all the money was refunded)
    given_back = member.entries.filter(kind="reversal", amount__gt=0)
    assert list(given_back.values_list("amount", flat=True)) == [200]
