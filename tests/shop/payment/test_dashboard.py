"""Staff refund a card payment from Oscar's order page and resolve payments under review."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model

from shop.payment.models import StripePayment
from stores.signals import pickup_cancelled
from tests.shop.payment.helpers import FINANCE, paid_delivery_order, staff_client

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db


def paid_order(fake_stripe) -> StripePayment:
    _order, payment = paid_delivery_order(Client(), fake_stripe)  # 2 x 12.50
    return payment


def test_staff_refund_part_of_an_order_from_its_page(fake_stripe):
    payment = paid_order(fake_stripe)
    staff = staff_client(*FINANCE)
    page = staff.get(reverse("dashboard:order-detail", kwargs={"number": payment.order.number}))
    assert page.status_code == 200
    assert b"Refund to the card" in page.content
    assert payment.payment_intent_id.encode() in page.content

    response = staff.post(
        reverse("payment-dashboard:refund", kwargs={"pk": payment.pk}),
        {"amount": "10.00", "reason": "one bag arrived torn"},
        follow=True,
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Refunded €10.00."]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("10.000")
    refund = payment.refunds.get()
    assert (refund.reason, refund.created_by.username) == ("one bag arrived torn", "ops")
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [1000]
    events = payment.order.payment_events.order_by("pk")
    assert [(e.event_type.name, e.amount) for e in events] == [
        ("Paid", Decimal("25.00")),
        ("Refunded", Decimal("10.00")),
    ]
    assert payment.order.sources.get().amount_refunded == Decimal("10.00")


def test_refund_above_what_is_left_is_refused_with_the_amount_left(fake_stripe):
    payment = paid_order(fake_stripe)
    staff = staff_client(*FINANCE)
    url = reverse("payment-dashboard:refund", kwargs={"pk": payment.pk})
    staff.post(url, {"amount": "20.00", "reason": "goodwill"}, follow=True)

    response = staff.post(url, {"amount": "5.01", "reason": "again"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "At most €5.00 can still be refunded."
    ]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("20.000")
    assert len(fake_stripe.refunds) == 1


def test_staff_without_the_finance_permissions_and_visitors_cannot_refund(fake_stripe):
    payment = paid_order(fake_stripe)
    orders_only = staff_client("order.view_order")
    url = reverse("payment-dashboard:refund", kwargs={"pk": payment.pk})

    page = orders_only.get(
        reverse("dashboard:order-detail", kwargs={"number": payment.order.number})
    )
    refused = orders_only.post(url, {"amount": "1.00", "reason": "x"})
    visitor = Client().post(url, {"amount": "1.00", "reason": "x"})

    assert page.status_code == 200
    assert b"Refund to the card" not in page.content
    assert refused.status_code == 403
    assert orders_only.get(reverse("payment-dashboard:review")).status_code == 403
    assert visitor.status_code == 302
    assert visitor["Location"].startswith(reverse("customer:login"))
    assert fake_stripe.refunds == {}


def test_a_payment_under_review_is_listed_until_staff_say_what_they_did(fake_stripe):
    payment = paid_order(fake_stripe)
    StripePayment.objects.filter(pk=payment.pk).update(
        needs_review=True, review_reason="Received 24.00 EUR for an order of 25.00 EUR."
    )
    staff = staff_client(*FINANCE)
    page = staff.get(reverse("payment-dashboard:review"))
    assert list(page.context["payments"]) == [payment]
    url = reverse("payment-dashboard:resolve", kwargs={"pk": payment.pk})

    no_note = staff.post(url, {"note": "  "}, follow=True)
    assert [str(m) for m in no_note.context["messages"]] == [
        "Say what was done, so the next person knows."
    ]
    staff.post(url, {"note": "refunded the difference in Stripe"})

    payment.refresh_from_db()
    assert payment.needs_review is False
    assert payment.review_reason == "Resolved by ops: refunded the difference in Stripe"
    note = payment.order.notes.get(note_type="Payment review")
    assert note.message == (
        "Received 24.00 EUR for an order of 25.00 EUR. -> refunded the difference in Stripe"
    )
    assert list(staff.get(reverse("payment-dashboard:review")).context["payments"]) == []


def test_the_same_refund_form_submitted_twice_refunds_once(fake_stripe):
    payment = paid_order(fake_stripe)
    staff = staff_client(*FINANCE)
    url = reverse("payment-dashboard:refund", kwargs={"pk": payment.pk})
    page = staff.get(reverse("dashboard:order-detail", kwargs={"number": payment.order.number}))
    token = re.search(rb'name="token" value="([0-9a-f]{32})"', page.content).group(1).decode()

    for _click in range(2):
        staff.post(url, {"amount": "10.00", "reason": "torn bag", "token": token})

    assert [r["amount"] for r in fake_stripe.refunds.values()] == [1000]
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("10.000")
    assert payment.refunds.get().idempotency_key == f"re:{payment.payment_intent_id}:{token}"


def test_a_prepaid_pickup_left_uncollected_is_put_in_front_of_staff_for_its_refund(
    fake_stripe,
):
    payment = paid_order(fake_stripe)
    order = payment.order

    pickup_cancelled.send(sender=None, pickup=None, order=order, status="uncollected")

    payment.refresh_from_db()
    assert payment.needs_review is True
    assert payment.review_reason == "Paid by card, but the pickup was uncollected: refund it."


def test_refund_message_shows_money_as_french_reads_it(fake_stripe):
    payment = paid_order(fake_stripe)
    staff = staff_client(*FINANCE)

    response = staff.post(
        "/fr" + reverse("payment-dashboard:refund", kwargs={"pk": payment.pk}),
        {"amount": "10.00", "reason": "one bag arrived torn"},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == ["10,00\xa0€ remboursés."]
