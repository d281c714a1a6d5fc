"""Redeeming loyalty points at checkout: points + pay at pickup (R18, R21)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from oscar.apps.order.signals import order_status_changed
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from loyalty.dashboard.forms import EarningRuleForm
from loyalty.models import EntryKind, Member, PendingEarn, PointsEntry
from loyalty.selectors import earning_rule
from loyalty.services.earning import order_points_refund, pending_confirm_due
from loyalty.services.ledger import points_debit
from loyalty.services.redemption import (
    RedemptionRefused,
    order_points_redeem,
    order_redemption_reverse,
)
from stores.services import pickup_slot_book
from tests.concurrency import hold_row_locks, run_concurrently
from tests.factories import product
from tests.loyalty.conftest import assert_ledger_balanced
from tests.shop.checkout_fixtures import (
    choose_pickup,
    open_store,
    ready_to_pay,
    redemption_rules,
    shopper,
    use_points,
)
from tests.stores.factories import stock

Order = get_model("order", "Order")
PaymentEvent = get_model("order", "PaymentEvent")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _balanced(request):
    # Set the database up first, so the check runs before its rollback or flush.
    request.getfixturevalue("_django_db_helper")
    yield
    assert_ledger_balanced()  # R19 after every test here


def place(client, **kwargs):
    return client.post(reverse("checkout:preview"), {"action": "place_order"}, **kwargs)


def debits(member):
    return list(member.entries.filter(kind=EntryKind.REDEEM).values_list("amount", flat=True))


def test_points_and_pay_at_pickup_end_to_end(client):
    redemption_rules(point_value="0.01", min_points=100, max_share="0.5")
    member = shopper(balance=1500)
    ready_to_pay(client, member, price="20.00")

    # The preview offers points: 1500 in the balance, at most half of 20.00 = 1000 points
    preview = client.get(reverse("checkout:preview"))
    assert preview.status_code == 200
    assert "You have 1500 points" in preview.content.decode()
    assert preview.context["points_max"] == 1000

    # Choosing 800 points shows what they pay and what is left for the pickup
    response = use_points(client, 800)
    assert response.status_code == 302
    preview = client.get(reverse("checkout:preview"))
    assert preview.context["points_used"] == 800
    assert preview.context["amount_left_to_pay"] == Decimal("12.00")
    assert "Left to pay" in preview.content.decode()
    member.refresh_from_db()
    assert member.balance == 1500  # nothing moves before the order is placed

    response = place(client, follow=True)
    assert response.redirect_chain[-1][0] == reverse("checkout:thank-you")

    order = Order.objects.get()
    assert order.total_incl_tax == Decimal("20.00")
    sources = {s.source_type.code: s for s in order.sources.all()}
    assert set(sources) == {"loyalty-points", "pay-at-pickup"}
    points_source = sources["loyalty-points"]
    assert (points_source.amount_allocated, points_source.amount_debited) == (
        Decimal("8.00"),
        Decimal("8.00"),
    )
    assert points_source.reference == f"redeem:order:{order.number}"
    assert sources["pay-at-pickup"].amount_allocated == Decimal("12.00")
    assert sources["pay-at-pickup"].amount_debited == Decimal("0.00")
    event = PaymentEvent.objects.get(order=order)
    assert (event.event_type.name, event.amount, event.reference) == (
        "Loyalty points",
        Decimal("8.00"),
        f"redeem:order:{order.number}",
    )

    member.refresh_from_db()
    assert member.balance == 700
    assert debits(member) == [-800]

    page = client.get(reverse("loyalty:member"))
    assert f"Used on order {order.number}" in page.content.decode()

    # The next checkout starts without points chosen
    assert client.session.get("checkout_data", {}).get("loyalty", {}).get("points") is None


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (2000, "You have 1500 points; you cannot use 2000."),
        (1200, "Points can pay up to 50% of this order: 1000 points at most."),
        (50, "Use at least 100 points, or none."),
        (-5, "greater than or equal to 0"),
        ("many", "Enter a whole number"),
    ],
)
def test_bad_points_get_a_form_message_and_move_nothing(client, points, message):
    redemption_rules(point_value="0.01", min_points=100, max_share="0.5")
    member = shopper(balance=1500)
    ready_to_pay(client, member, price="20.00")

    response = use_points(client, points)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["points_form"].errors["points"]
    assert client.get(reverse("checkout:preview")).context["points_used"] == 0
    member.refresh_from_db()
    assert (member.balance, debits(member)) == (1500, [])


def test_zero_points_means_none(client):
    member = shopper(balance=1500)
    ready_to_pay(client, member)
    use_points(client, 500)
    use_points(client, 0)
    place(client)
    order = Order.objects.get()
    assert [s.source_type.code for s in order.sources.all()] == ["pay-at-pickup"]
    member.refresh_from_db()
    assert (member.balance, debits(member)) == (1500, [])


def test_balance_spent_elsewhere_meanwhile_refuses_the_order_and_moves_nothing(client):
    member = shopper(balance=1500)
    ready_to_pay(client, member)
    use_points(client, 1000)
    points_debit(member=member, amount=1000, reason="In store", idempotency_key="counter")

    response = place(client)

    assert response.status_code == 200
    assert "You have 500 points; you cannot use 1000." in response.content.decode()
    assert not Order.objects.exists()
    member.refresh_from_db()
    assert (member.balance, debits(member)) == (500, [-1000])


def test_failed_placement_gives_the_points_back_once_and_a_retry_spends_them_once(client):
    member = shopper(balance=1500)
    shop, slot = ready_to_pay(client, member, slot_capacity=1)
    use_points(client, 600)
    # Another shopper takes the last place in the slot: placing fails after the debit
    pickup_slot_book(store=shop, starts_at=slot.starts_at, now=timezone.now())

    response = place(client)

    assert response.status_code == 200
    assert not Order.objects.exists()
    member.refresh_from_db()
    assert member.balance == 1500
    entries = list(member.entries.order_by("pk").values_list("kind", "amount"))
    assert entries[1:] == [(EntryKind.REDEEM, -600), (EntryKind.REVERSAL, 600)]

    # Another slot, and the order goes through with one new debit
    choose_pickup(client, shop, slot_index=1)
    response = place(client, follow=True)
    assert response.redirect_chain[-1][0] == reverse("checkout:thank-you")
    order = Order.objects.get()
    member.refresh_from_db()
    assert member.balance == 900
    assert debits(member) == [-600, -600]
    source = order.sources.get(source_type__code="loyalty-points")
    assert source.reference == f"redeem:order:{order.number}:1"

    # Replaying the give-back of the failed attempt moves nothing more
    for _ in range(10):
        order_redemption_reverse(order_number=order.number, reason="replay")
    member.refresh_from_db()
    assert member.balance == 1500  # the live debit was given back once, the old one not again
    assert member.entries.filter(kind=EntryKind.REVERSAL).count() == 2


def test_cancelled_order_gives_the_points_back_exactly_once(client):
    member = shopper(balance=1500)
    ready_to_pay(client, member)
    use_points(client, 1000)
    place(client)
    order = Order.objects.get()
    member.refresh_from_db()
    assert member.balance == 500

    for _ in range(10):
        order_status_changed.send(
            sender=Order, order=order, old_status="Pending", new_status="Cancelled"
        )

    member.refresh_from_db()
    assert member.balance == 1500
    reversal = PointsEntry.objects.get(kind=EntryKind.REVERSAL)
    assert (reversal.amount, reversal.reverses.idempotency_key) == (
        1000,
        f"redeem:order:{order.number}",
    )


def test_guests_are_not_offered_points(client):
    item = product("Lamp", price="20.00", stock=10)
    shop = open_store()
    stock(shop, item, 5, price="20.00")
    client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
    client.post(reverse("checkout:index"), {"username": "g@example.com", "options": "anonymous"})
    choose_pickup(client, shop)
    preview = client.get(reverse("checkout:preview"))
    assert "Pay with points" not in preview.content.decode()
    assert use_points(client, 500).status_code == 302
    place(client)
    assert not PointsEntry.objects.exists()


# --- The marketers' redemption rules, and earning on what was paid in money ---------------


def marketer():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="loyalty", codename="change_earningrule")
    )
    client = Client()
    client.force_login(user)
    return client


def rules_posted(client, **changes):
    """Post the dashboard's Earning rules form: today's values with `changes`."""
    data = {**EarningRuleForm(instance=earning_rule()).initial, **changes}
    return client.post(reverse("loyalty_dashboard:loyalty-rules"), data)


def test_redemption_rules_changed_in_the_dashboard_apply_to_the_next_checkout_page(client):
    # Given a member with 1500 points at checkout with a 20.00 basket, at the initial rules
    redemption_rules(point_value="0.01", min_points=100, max_share="0.5")
    member = shopper(balance=1500)
    ready_to_pay(client, member, price="20.00")
    assert client.get(reverse("checkout:preview")).context["points_max"] == 1000

    # When a marketer makes a point worth 0.02, with 50 points at least and a quarter at most
    response = rules_posted(
        marketer(), point_value="0.02", redeem_min_points=50, redeem_max_share="0.25"
    )
    assert response.status_code == 302

    # Then the member's next page allows 250 points at most (a quarter of 20.00 at 0.02)
    assert client.get(reverse("checkout:preview")).context["points_max"] == 250
    assert "Use at least 50 points, or none." in use_points(client, 40).content.decode()
    assert (
        "Points can pay up to 25% of this order: 250 points at most."
        in use_points(client, 300).content.decode()
    )
    # 200 points now pay 4.00, and 16.00 is left to pay at pickup
    assert use_points(client, 200).status_code == 302
    preview = client.get(reverse("checkout:preview"))
    assert (preview.context["points_used_value"], preview.context["amount_left_to_pay"]) == (
        Decimal("4.00"),
        Decimal("16.00"),
    )
    place(client)
    order = Order.objects.get()
    sources = {s.source_type.code: s.amount_allocated for s in order.sources.all()}
    assert sources == {"loyalty-points": Decimal("4.00"), "pay-at-pickup": Decimal("16.00")}
    member.refresh_from_db()
    assert (member.balance, debits(member)) == (1300, [-200])


def test_the_checkout_preview_reads_the_redemption_rules_once(client):
    member = shopper(balance=1500)
    ready_to_pay(client, member, price="20.00")
    use_points(client, 500)
    client.get(reverse("checkout:preview"))  # warm

    with CaptureQueriesContext(connection) as ctx:
        preview = client.get(reverse("checkout:preview"))

    assert preview.context["points_used_value"] == Decimal("5.00")
    rule_reads = [q for q in ctx.captured_queries if "loyalty_earningrule" in q["sql"]]
    assert len(rule_reads) == 1


def test_points_are_earned_on_the_money_paid_not_on_the_points(client):
    # Given 2 points per unit, no bonuses, and a point worth 0.01
    rule = redemption_rules(point_value="0.01", min_points=100, max_share="0.5")
    rule.points_per_unit = Decimal("2.00")
    rule.click_collect_bonus = rule.first_order_bonus = 0
    rule.save()
    member = shopper(balance=1500)
    ready_to_pay(client, member, price="20.00")

    # When 1000 points pay 10.00 of a 20.00 order
    use_points(client, 1000)
    place(client)

    # Then the points are earned on the 10.00 paid in money: 20 points, not 40
    order = Order.objects.get()
    pending = PendingEarn.objects.get(order=order)
    assert (pending.base_amount, pending.points) == (Decimal("10.00"), 20)
    member.refresh_from_db()
    assert (member.balance, member.pending) == (500, 20)

    # And a refund of 5.00 of that money, once confirmed, takes back half of them, once
    pending_confirm_due(at=timezone.now() + timedelta(days=60))
    for _ in range(10):
        order_points_refund(order=order, refunded_total=Decimal("5.00"))
    member.refresh_from_db()
    assert member.balance == 500 + 20 - 10
    assert member.entries.filter(kind=EntryKind.REVERSAL).count() == 1


# --- Concurrency on PostgreSQL (R18 at the checkout) ----------------------------------------


def _client_ready(member, shop):
    client = Client()
    client.force_login(member.user)
    choose_pickup(client, shop)
    use_points(client, 1000)
    return client


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_place_order_posts_spend_the_points_once():
    member = shopper(balance=1500)
    item = product("Lamp", price="20.00", stock=10)
    shop = open_store(slot_capacity=10)
    stock(shop, item, 5, price="20.00")
    first = Client()
    first.force_login(member.user)
    first.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
    # Five phones of the same member, each with 1000 points chosen for the same basket
    clients = [_client_ready(member, shop) for _ in range(5)]

    responses = run_concurrently(
        [lambda c=c: place(c) for c in clients],
        lock=hold_row_locks("loyalty_member", [member.pk]),
        until_blocked=1,
    )

    assert not [r for r in responses if isinstance(r, Exception)]
    orders = Order.objects.count()
    assert orders == 1
    member.refresh_from_db()
    assert member.balance == 1500 - 1000 * orders >= 0
    live = [
        d for d in PointsEntry.objects.filter(kind=EntryKind.REDEEM) if not d.reversals.exists()
    ]
    assert len(live) == orders  # one debit per order
    order = Order.objects.get()
    assert order.sources.get(source_type__code="loyalty-points").reference == (
        live[0].idempotency_key
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_orders_never_spend_more_than_the_balance():
    member = shopper(balance=1000)

    def redeem(number):
        return lambda: order_points_redeem(
            member=Member.objects.get(pk=member.pk),
            order_number=number,
            points=400,
            order_total=Decimal("100.00"),
        )

    results = run_concurrently(
        [redeem(str(100001 + i)) for i in range(5)],
        lock=hold_row_locks("loyalty_member", [member.pk]),
        until_blocked=5,
    )

    spent = [r for r in results if isinstance(r, PointsEntry)]
    refused = [r for r in results if isinstance(r, RedemptionRefused)]
    assert (len(spent), len(refused)) == (2, 3)
    assert all("You have 200 points" in r.message for r in refused)
    member.refresh_from_db()
    assert member.balance == 200
    assert len({e.idempotency_key for e in spent}) == 2  # one debit per order
