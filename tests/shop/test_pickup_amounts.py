"""What is left to pay on a click & collect order paid partly with points, everywhere a
customer or a member of staff sees it, and what the hand-over settles (stores.selectors
order_amounts, read from Oscar's payment sources)."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from shop.communication.models import OutboxMessage
from stores.links import pickup_link_url
from stores.models import PickupStatus
from stores.selectors import order_amounts
from stores.services import pickup_mark_ready
from tests.shop.checkout_fixtures import (  # noqa: F401
    choose_pickup,
    ledger_balanced,
    open_store,
    pickup_with_points,
    redemption_rules,
    shopper,
)
from tests.shop.payment.helpers import pay_return
from tests.stores.factories import pickup_order, staff_of

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db

DUE = '<dd class="order-amounts__due"><strong>{}</strong></dd>'
POINTS = '<dd class="order-amounts__points">{}</dd>'


def staff_client(shop) -> Client:
    staff = Client()
    staff.force_login(staff_of(shop, "staff@centre.example"))
    return staff


def text(response) -> str:
    return response.content.decode()


def test_points_and_pay_at_pickup_show_10_26_left_everywhere(client):
    # Given a click & collect order of 12.26, 200 points (2.00) used, the rest at pickup
    order, pickup, shop, response = pickup_with_points(client)
    assert response["Location"] == reverse("checkout:thank-you")
    assert order.total_incl_tax == Decimal("12.26")

    # Then the one selector says 2.00 in points and 10.26 left, all of it at pickup
    amounts = order_amounts(order=order)
    assert (amounts.total, amounts.points_value, amounts.paid) == (
        Decimal("12.26"),
        Decimal("2.00"),
        Decimal("0.00"),
    )
    assert (amounts.left_to_pay, amounts.due_at_pickup) == (Decimal("10.26"), Decimal("10.26"))
    assert amounts.points_label == "200 points"

    # and every page shows 10.26 to pay and the 2.00 in points
    thanks = text(client.get(reverse("checkout:thank-you")))
    follow = text(client.get(pickup_link_url(order_number=order.number)))
    for page in (thanks, follow):
        assert DUE.format("€10.26") in page
        assert POINTS.format("€2.00") in page
        assert "Paid with loyalty points (200 points)" in page
    account = text(client.get(reverse("customer:order", kwargs={"order_number": order.number})))
    assert re.search(
        r'class="order-due"><th colspan="2">To pay at pickup</th>\s*'
        r'<td colspan="2" class="text-nowrap"><strong>€10.26</strong>',
        account,
    )
    assert (
        'Paid with loyalty points (200 points)</td><td colspan="2" class="text-nowrap">€2.00'
        in account
    )
    # One price column (prices include tax), and no empty shipping address for a pickup
    headers = re.findall(r'<th scope="col">(.*?)</th>', account)
    assert headers[:3] == ["Product", "Qty", "Price"]
    assert "excl. tax" not in account and "Shipping Address" not in account
    staff = staff_client(shop)
    queue = text(staff.get(reverse("stores-dashboard:queue")))
    assert '<td class="queue-due">€10.26</td>' in queue
    detail = text(staff.get(reverse("stores-dashboard:detail", args=[pickup.pk])))
    assert DUE.format("€10.26") in detail and POINTS.format("€2.00") in detail
    for page in (thanks, follow, account, queue, detail):
        assert "12.26 EUR" not in page
        assert "To pay at pickup: €12.26" not in page

    # and the confirmation message says so too
    (email,) = OutboxMessage.objects.filter(event_code="ORDER_PLACED", channel="email")
    assert "Paid with loyalty points: €2.00" in email.body
    assert "To pay at pickup: €10.26" in email.body
    assert "€10.26" in email.html and "€2.00" in email.html


def test_hand_over_settles_exactly_what_was_left_to_pay(client):
    order, pickup, shop, _ = pickup_with_points(client)
    staff = staff_client(shop)
    pickup_mark_ready(pickup=pickup, now=timezone.now())

    # The counter is told what to take before handing over
    detail = text(staff.get(reverse("stores-dashboard:detail", args=[pickup.pk])))
    assert "Take €10.26, then hand over." in detail

    handed = staff.post(
        reverse("stores-dashboard:status", args=[pickup.pk]),
        {"action": "collected", "code": pickup.code},
        follow=True,
    )

    assert f"Order {order.number}: Collected. €10.26 taken at pickup." in text(handed)
    sources = {
        s.source_type.code: (s.amount_allocated, s.amount_debited) for s in order.sources.all()
    }
    assert sources == {
        "loyalty-points": (Decimal("2.00"), Decimal("2.00")),
        "pay-at-pickup": (Decimal("10.26"), Decimal("10.26")),
    }
    events = [(e.event_type.name, e.amount) for e in order.payment_events.order_by("pk")]
    assert events == [("Loyalty points", Decimal("2.00")), ("Paid at pickup", Decimal("10.26"))]
    amounts = order_amounts(order=order)
    assert (amounts.paid, amounts.left_to_pay, amounts.due_at_pickup) == (
        Decimal("10.26"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    follow = text(client.get(pickup_link_url(order_number=order.number)))
    assert DUE.format("Nothing, it is paid") in follow


def test_points_and_card_leave_nothing_to_pay_at_pickup(client, fake_stripe):
    # Given the same order paying its 10.26 by card
    order, pickup, shop, response = pickup_with_points(client, method="card")
    assert response["Location"] == reverse("checkout:pay", kwargs={"order_number": order.number})

    # Before the card is charged, 10.26 is left, none of it at the counter
    amounts = order_amounts(order=order)
    assert (amounts.left_to_pay, amounts.due_at_pickup) == (Decimal("10.26"), Decimal("0.00"))
    account = text(client.get(reverse("customer:order", kwargs={"order_number": order.number})))
    assert "To pay at pickup" not in account
    assert re.search(
        r'Left to pay</th>\s*<td colspan="2" class="text-nowrap"><strong>€10.26</strong>', account
    )

    # When the card pays
    fake_stripe.customer_pays(order.stripe_payment.payment_intent_id)
    assert pay_return(client, order)["Location"] == reverse("checkout:thank-you")

    # Then nothing is left to pay anywhere, and the points part still shows
    amounts = order_amounts(order=order)
    assert (amounts.points_value, amounts.paid, amounts.left_to_pay) == (
        Decimal("2.00"),
        Decimal("10.26"),
        Decimal("0.00"),
    )
    follow = text(client.get(pickup_link_url(order_number=order.number)))
    assert DUE.format("Nothing, it is paid") in follow and POINTS.format("€2.00") in follow
    assert '<dd class="order-amounts__paid">€10.26</dd>' in follow
    staff = staff_client(shop)
    assert '<td class="queue-due">Paid</td>' in text(staff.get(reverse("stores-dashboard:queue")))
    detail = text(staff.get(reverse("stores-dashboard:detail", args=[pickup.pk])))
    assert "To pay at pickup" not in detail

    # and the hand-over takes no money
    pickup_mark_ready(pickup=pickup, now=timezone.now())
    handed = staff.post(
        reverse("stores-dashboard:status", args=[pickup.pk]),
        {"action": "collected", "code": pickup.code},
        follow=True,
    )
    assert f"Order {order.number}: Collected." in text(handed)
    assert "taken at pickup" not in text(handed)
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.COLLECTED
    events = [(e.event_type.name, e.amount) for e in order.payment_events.order_by("pk")]
    assert events == [("Loyalty points", Decimal("2.00")), ("Paid", Decimal("10.26"))]


def test_the_thank_you_page_shows_the_qr_and_no_internal_reference(client):
    order, pickup, _shop, _ = pickup_with_points(client)

    thanks = text(client.get(reverse("checkout:thank-you")))

    assert '<div class="pickup-qr"><svg' in thanks
    assert pickup.code in thanks
    assert "redeem:order:" not in thanks
    assert "Allocation of" not in thanks
    assert (
        f"redeem:order:{order.number}"
        == order.sources.get(source_type__code="loyalty-points").reference
    )  # still recorded for staff and reconciliation


def queue_queries(staff) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = staff.get(reverse("stores-dashboard:queue"))
    return len(queries), text(response)


def test_the_queue_shows_what_is_due_in_the_same_queries_for_1_or_4_orders():
    # Orders without payment sources (as the demo seeder makes them) owe their total
    shop = open_store()
    staff = staff_client(shop)
    first = pickup_order(shop)
    one, page = queue_queries(staff)
    assert page.count('<td class="queue-due">') == 1
    assert f'<td class="queue-due">€{first.order.total_incl_tax}</td>' in page

    for _ in range(3):
        pickup_order(shop)
    four, page = queue_queries(staff)

    assert page.count('<td class="queue-due">') == 4
    assert '<td class="queue-due">Paid</td>' not in page
    assert four == one
