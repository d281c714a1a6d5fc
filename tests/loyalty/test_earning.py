"""Earning rules (loyalty/services/earning.py): orders, bonuses, confirmation, expiry."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from oscar.apps.customer.signals import user_registered
from oscar.apps.order.signals import order_status_changed
from oscar.apps.shipping.methods import Free
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory, create_product

from loyalty import tasks
from loyalty.models import EntryKind, Member, Multiplier, PendingEarn, PendingStatus, Tier
from loyalty.selectors import earning_rule
from loyalty.services.earning import (
    birthday_bonuses_award,
    expiry_notices_send,
    order_points_refund,
    pending_confirm_due,
)
from loyalty.services.ledger import points_credit
from loyalty.services.redemption import order_points_redeem, redemption_give_back
from loyalty.services.tiers import tier_levels_ensure
from tests.factories import category, product
from tests.loyalty.factories import member_factory, order_for

pytestmark = pytest.mark.django_db

ProductReview = get_model("reviews", "ProductReview")
Order = get_model("order", "Order")


class ClickAndCollect(Free):
    code = "click-and-collect"


@pytest.fixture
def shopper():
    rule = earning_rule()
    rule.first_order_bonus = 0
    rule.click_collect_bonus = 0
    rule.save()
    return member_factory()


def _member(member) -> Member:
    return Member.objects.get(pk=member.pk)


def test_an_order_earns_pending_points_on_its_products_only(shopper):
    order = order_for(shopper.user, (product("Munster", price="12.50"), 2))

    pending = PendingEarn.objects.get(order=order)
    assert order.shipping_incl_tax == 0 or order.total_incl_tax > Decimal("25.00")
    assert (pending.points, pending.base_amount, pending.status) == (
        25,
        Decimal("25.00"),
        PendingStatus.PENDING,
    )
    assert (_member(shopper).pending, _member(shopper).balance) == (25, 0)


def test_a_guest_order_earns_nothing(db):
    order_for(None, (product("Bretzel", price="1.20"), 3))

    assert PendingEarn.objects.count() == 0


@pytest.mark.parametrize(("rounding", "points"), [("down", 14), ("half_up", 15), ("up", 15)])
def test_points_are_rounded_with_the_marketers_rounding_mode(shopper, rounding, points):
    rule = earning_rule()
    rule.points_per_unit, rule.rounding = Decimal("1.50"), rounding
    rule.save()

    order = order_for(shopper.user, (product("Kougelhopf", price="9.99"), 1))  # 14.985 points

    assert PendingEarn.objects.get(order=order).points == points


def test_the_best_category_or_range_multiplier_applies_per_line(shopper):
    cheese = category("Cheese")
    munster = product("Munster", price="10.00", categories=[cheese])
    bread = product("Bread", price="10.00")
    Multiplier.objects.create(name="Cheese week", category=cheese, factor=Decimal("2"))
    Multiplier.objects.create(name="Cheese x3 off", category=cheese, factor=3, is_active=False)

    order = order_for(shopper.user, (munster, 1), (bread, 1))

    assert PendingEarn.objects.get(order=order).points == 30


def test_a_range_multiplier(shopper):
    item = product("Crémant", price="10.00")
    bubbles = get_model("offer", "Range").objects.create(name="Bubbles")
    bubbles.add_product(item)
    Multiplier.objects.create(name="Bubbles", range=bubbles, factor=Decimal("1.5"))

    order = order_for(shopper.user, (item, 2))

    assert PendingEarn.objects.get(order=order).points == 30


def test_a_gold_member_earns_with_the_gold_multiplier(shopper):
    tier_levels_ensure()
    Member.objects.filter(pk=shopper.pk).update(tier=Tier.GOLD)

    order = order_for(_member(shopper).user, (product("Foie gras", price="40.00"), 1))

    assert PendingEarn.objects.get(order=order).points == 60


def test_click_and_collect_and_first_order_bonuses(db):
    rule = earning_rule()
    rule.click_collect_bonus, rule.first_order_bonus = 50, 200
    rule.save()
    member = member_factory()
    item = product("Tarte flambée", price="10.00", stock=10)

    first = order_for(member.user, (item, 1), shipping_method=ClickAndCollect())
    second = order_for(member.user, (item, 1))

    assert PendingEarn.objects.get(order=first).points == 10 + 50 + 200
    assert PendingEarn.objects.get(order=second).points == 10


# --- Points earned on what was paid in money, not on the points used ---------------------


def _points_paying(member, *, number: str, points: int, total: str):
    """What the checkout does before placing order `number`: the points debit."""
    points_credit(member=member, amount=points, reason="Earned", idempotency_key=f"seed:{number}")
    return order_points_redeem(
        member=member, order_number=number, points=points, order_total=Decimal(total)
    )


def _redemption_rules(point_value="0.01", max_share="0.5"):
    rule = earning_rule()
    rule.point_value, rule.redeem_max_share = Decimal(point_value), Decimal(max_share)
    rule.save()


def test_the_part_paid_with_points_earns_nothing(shopper):
    # Given 1000 points worth 0.01 used on a 20.00 order, and 1.5 points per unit
    _redemption_rules(point_value="0.01")
    rule = earning_rule()
    rule.points_per_unit = Decimal("1.50")
    rule.save()
    _points_paying(shopper, number="100042", points=1000, total="20.00")

    # When the order is placed
    order = order_for(shopper.user, (product("Munster", price="20.00"), 1), number="100042")

    # Then its points are earned on the 10.00 paid in money: 15 points, not 30
    pending = PendingEarn.objects.get(order=order)
    assert (pending.base_amount, pending.points) == (Decimal("10.00"), 15)


def test_multipliers_keep_their_weight_on_the_part_paid_in_money(shopper):
    # Given cheese at x2, a 10.00 cheese and a 10.00 bread (30 points without points used)
    _redemption_rules(point_value="0.01")
    cheese = category("Cheese")
    Multiplier.objects.create(name="Cheese week", category=cheese, factor=Decimal("2"))
    munster = product("Munster", price="10.00", categories=[cheese])
    bread = product("Bread", price="10.00")
    _points_paying(shopper, number="100043", points=500, total="20.00")

    # When 500 points pay 5.00 of the 20.00
    order = order_for(shopper.user, (munster, 1), (bread, 1), number="100043")

    # Then every line earns on three quarters of its price: 30 x 15.00 / 20.00 = 22.5 -> 22
    pending = PendingEarn.objects.get(order=order)
    assert (pending.base_amount, pending.points) == (Decimal("15.00"), 22)


def test_an_order_paid_entirely_with_points_earns_only_its_bonuses(db):
    rule = earning_rule()
    rule.click_collect_bonus, rule.first_order_bonus = 50, 0
    rule.save()
    _redemption_rules(point_value="0.01", max_share="1")
    member = member_factory()
    _points_paying(member, number="100044", points=1000, total="10.00")

    order = order_for(
        member.user,
        (product("Tarte", price="10.00"), 1),
        number="100044",
        shipping_method=ClickAndCollect(),
    )

    pending = PendingEarn.objects.get(order=order)
    assert (pending.base_amount, pending.points) == (Decimal("0.00"), 50)


def test_points_given_back_before_the_order_do_not_lower_its_base(shopper):
    # A first attempt's debit was given back (placing failed); the order paid in money only
    debit = _points_paying(shopper, number="100045", points=1000, total="20.00")
    redemption_give_back(debit=debit, reason="Order 100045 not placed")

    order = order_for(shopper.user, (product("Munster", price="20.00"), 1), number="100045")

    pending = PendingEarn.objects.get(order=order)
    assert (pending.base_amount, pending.points) == (Decimal("20.00"), 20)


def test_a_partial_refund_of_an_order_partly_paid_with_points_reverses_in_proportion(shopper):
    # Given a 30.00 order with 1000 points paying 10.00: 20 points on the 20.00 paid in money
    _redemption_rules(point_value="0.01")
    _points_paying(shopper, number="100046", points=1000, total="30.00")
    order = order_for(shopper.user, (product("Munster", price="10.00"), 3), number="100046")
    assert PendingEarn.objects.get(order=order).points == 20
    pending_confirm_due(at=timezone.now() + timedelta(days=30))
    balance = _member(shopper).balance

    # When 5.00 of the money is refunded, replayed 10 times (R21)
    for _ in range(10):
        order_points_refund(order=order, refunded_total=Decimal("5.00"))

    # Then a quarter of the points is taken back, once: floor(20 x 5.00 / 20.00) = 5
    assert _member(shopper).balance == balance - 5
    assert shopper.entries.filter(kind=EntryKind.REVERSAL).count() == 1


def test_points_are_confirmed_by_the_task_after_the_return_window(shopper, settings):
    order = order_for(shopper.user, (product("Riesling", price="15.00"), 1))
    pending = PendingEarn.objects.get(order=order)

    assert pending_confirm_due(at=pending.confirm_after - timedelta(seconds=1)) == 0
    assert pending.confirm_after == order.date_placed + timedelta(
        days=settings.LOYALTY_RETURN_WINDOW_DAYS
    )
    PendingEarn.objects.filter(pk=pending.pk).update(confirm_after=timezone.now())
    assert tasks.confirm_pending_points.apply().get() == 1

    pending.refresh_from_db()
    assert pending.status == PendingStatus.CONFIRMED
    assert (_member(shopper).pending, _member(shopper).balance) == (0, 15)
    assert tasks.confirm_pending_points.apply().get() == 0


def test_a_cancelled_order_loses_its_pending_points(shopper):
    order = order_for(shopper.user, (product("Baeckeoffe", price="22.00"), 1))

    order_status_changed.send(sender=Order, order=order, old_status="", new_status="Cancelled")

    pending = PendingEarn.objects.get(order=order)
    assert (pending.status, pending.remaining) == (PendingStatus.CANCELLED, 0)
    assert _member(shopper).pending == 0


def test_a_partial_refund_after_confirmation_reverses_in_proportion(shopper):
    order = order_for(shopper.user, (product("Munster", price="10.00"), 3))
    pending_confirm_due(at=timezone.now() + timedelta(days=30))

    for _ in range(10):
        order_points_refund(order=order, refunded_total=Decimal("10.00"))

    assert _member(shopper).balance == 20
    assert shopper.entries.filter(kind=EntryKind.REVERSAL).count() == 1


def test_signing_up_enrols_and_gives_the_welcome_bonus_once(db):
    user = UserFactory()

    for _ in range(3):
        user_registered.send(sender=None, request=None, user=user)

    member = Member.objects.get(user=user)
    assert (member.balance, member.entries.get().kind) == (100, EntryKind.BONUS)


def test_an_approved_review_earns_its_bonus_once(shopper):
    review = ProductReview.objects.create(
        product=create_product(),
        user=shopper.user,
        title="Great",
        score=5,
        body="Lovely",
        status=ProductReview.FOR_MODERATION,
    )
    assert _member(shopper).balance == 0  # not approved yet

    review.status = ProductReview.APPROVED
    review.save()
    review.save()

    assert _member(shopper).balance == 25


def test_the_birthday_bonus_is_given_once_a_year(db):
    born = member_factory()
    Member.objects.filter(pk=born.pk).update(birthday=date(1990, 6, 14))
    other = member_factory()
    Member.objects.filter(pk=other.pk).update(birthday=date(1990, 6, 15))

    assert birthday_bonuses_award(today=date(2026, 6, 14)) == 1
    assert birthday_bonuses_award(today=date(2026, 6, 14)) == 0
    assert birthday_bonuses_award(today=date(2027, 6, 14)) == 1
    assert (_member(born).balance, _member(other).balance) == (200, 0)


def test_points_expiring_soon_are_announced_once(shopper, settings):
    now = timezone.now()
    points_credit(
        member=shopper,
        amount=80,
        reason="Order",
        idempotency_key="earn:1",
        at=now - timedelta(days=settings.LOYALTY_POINTS_EXPIRY_DAYS - 10),
    )
    points_credit(member=shopper, amount=20, reason="Order", idempotency_key="earn:2", at=now)
    outbox = apps.get_model("communication", "OutboxMessage").objects

    assert expiry_notices_send(at=now) == 1
    assert expiry_notices_send(at=now) == 0
    messages = outbox.filter(event_code="LOYALTY_POINTS_EXPIRING")
    assert messages.count() >= 1
    assert "80 points expire soon" in messages.first().subject


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_confirms_due_points(celery_worker_process):
    member = member_factory()
    order = order_for(member.user, (product("Pinot gris", price="12.00"), 1))
    PendingEarn.objects.filter(order=order).update(confirm_after=timezone.now())

    assert tasks.confirm_pending_points.delay().get(timeout=30) == 1

    assert _member(member).balance == 12 + earning_rule().first_order_bonus
