"""`manage.py population_generate` (loyalty/population/) and the ledger's bulk history import
it writes points through (README, "Synthetic population")."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from oscar.core.loading import get_model

from loyalty.models import (
    EntryKind,
    Member,
    MemberCategory,
    MemberStats,
    PendingEarn,
    PendingStatus,
    PointsEntry,
    PointsLot,
    Segment,
)
from loyalty.population import PopulationError, PopulationPlan, population_generate
from loyalty.selectors import segment_members
from loyalty.services.ledger import (
    PastEarn,
    PastMovement,
    pending_add,
    pending_confirm,
    points_credit,
    points_debit,
    points_expire,
    points_history_write,
)
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")
Line = get_model("order", "Line")
Pickup = get_model("stores", "Pickup")
ConsentRecord = get_model("communication", "ConsentRecord")
OutboxMessage = get_model("communication", "OutboxMessage")
TODAY = date(2026, 11, 30)


def _generate(**options) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "population_generate",
        today=options.pop("today", TODAY),
        stdout=out,
        stderr=err,
        **options,
    )
    return out.getvalue() + err.getvalue()


def _fingerprint(seed: int) -> dict:
    """Everything a population is, without database ids."""
    prefix = f"pop{seed}-"
    users = get_user_model().objects.filter(username__startswith=prefix)
    return {
        "members": list(
            Member.objects.filter(user__in=users)
            .order_by("user__username")
            .values_list(
                "user__username",
                "user__first_name",
                "number",
                "birthday",
                "joined_at",
                "tier",
                "balance",
                "pending",
                "user__store_preference__store__slug",
            )
        ),
        "orders": list(
            Order.objects.filter(user__in=users)
            .order_by("number")
            .values_list("number", "total_incl_tax", "status", "date_placed", "shipping_code")
        ),
        "lines": list(
            Line.objects.filter(order__user__in=users)
            .order_by("order__number", "product__upc", "quantity")
            .values_list("order__number", "product__upc", "quantity", "line_price_incl_tax")
        ),
        "pickups": list(
            Pickup.objects.filter(order__user__in=users)
            .order_by("order__number")
            .values_list("order__number", "store__slug", "slot__starts_at", "status")
        ),
        "entries": list(
            PointsEntry.objects.filter(member__user__in=users)
            .order_by("member__user__username", "created_at", "amount")
            .values_list("member__user__username", "kind", "amount", "balance_after", "created_at")
        ),
        "consents": list(
            ConsentRecord.objects.filter(user__in=users)
            .order_by("user__username", "channel", "recorded_at")
            .values_list("user__username", "channel", "action", "recorded_at")
        ),
        "languages": list(
            OutboxMessage.objects.filter(user__in=users)
            .order_by("user__username")
            .values_list("user__username", "language")
        ),
    }


def test_200_members_and_1000_orders_with_lines_pickups_consents_and_a_balanced_ledger():
    output = _generate(members=200, orders=1000, seed=3, batch=50, with_segments=True)

    users = get_user_model().objects.filter(username__startswith="pop3-")
    members = Member.objects.filter(user__in=users)
    orders = Order.objects.filter(user__in=users)
    assert users.count() == members.count() == 200
    assert orders.count() == 1000
    assert "Population pop3: 200 members, 1,000 orders" in output
    assert "100% 200/200 members" in output  # the progress lines, on stderr
    # Every order has lines whose prices add up to its total, in real categories.
    assert not orders.annotate(n_lines=Count("lines")).filter(n_lines=0).exists()
    # (Summed here: SQLite sums decimals as floats.)
    lines_total: dict[str, Decimal] = {}
    for number, price in Line.objects.filter(order__in=orders).values_list(
        "order__number", "line_price_incl_tax"
    ):
        lines_total[number] = lines_total.get(number, Decimal(0)) + price
    assert dict(orders.values_list("number", "total_incl_tax")) == lines_total
    assert not Line.objects.filter(order__in=orders, product__categories__isnull=True).exists()
    # Click & collect orders have a pickup in a slot that is never overbooked.
    pickups = Pickup.objects.filter(order__in=orders)
    assert pickups.count() == orders.filter(shipping_code="click-and-collect").count() > 0
    slots = get_model("stores", "PickupSlot").objects.filter(pickups__in=pickups).distinct()
    assert not slots.annotate(n=Count("pickups")).exclude(n=F("booked")).exists()
    # R19 for every member: balance = sum of entries = sum of lot remainders; pending = open
    # pending earns (also checked after every loyalty test by tests/loyalty/conftest.py).
    for member in members.annotate(
        entries_sum=Sum("entries__amount", distinct=False),
    ):
        lots = PointsLot.objects.filter(member=member).aggregate(s=Sum("remaining"))["s"] or 0
        open_pending = (
            PendingEarn.objects.filter(member=member, status=PendingStatus.PENDING).aggregate(
                s=Sum("remaining")
            )["s"]
            or 0
        )
        assert (member.balance, lots, member.pending) == (
            member.entries_sum or 0,
            member.entries_sum or 0,
            open_pending,
        )
    # Every counted order earned (or is still earning) its points, cancelled ones none.
    counted = orders.exclude(status="Cancelled")
    assert PendingEarn.objects.filter(order__in=counted).count() == counted.count()
    assert not PendingEarn.objects.filter(order__status="Cancelled").exists()
    assert PointsEntry.objects.filter(member__in=members, kind=EntryKind.EARN).count() == (
        PendingEarn.objects.filter(member__in=members, status=PendingStatus.CONFIRMED).count()
    )
    # The statistics segments read were refreshed from those orders.
    with_orders = members.filter(user__orders__status="Complete").distinct()
    assert MemberStats.objects.filter(member__in=members, orders_count__gt=0).count() == (
        with_orders.count()
    )
    assert MemberCategory.objects.filter(member__in=members).exists()
    sample = with_orders.order_by("pk").first()
    assert sample.stats.orders_count == counted.filter(user=sample.user).count()
    assert sample.stats.language in ("en", "fr")
    # Consents and languages vary, and segments over them count something.
    assert ConsentRecord.objects.filter(user__in=users, channel="email").exists()
    assert set(MemberStats.objects.values_list("language", flat=True)) >= {"en", "fr"}
    names = set(Segment.objects.values_list("name", flat=True))
    assert {"Lapsed 90 days", "Birthday this month", "Gold members near Strasbourg"} <= names
    lapsed = Segment.objects.get(name="Lapsed 90 days")
    assert 0 < segment_members(rules=lapsed.rules).count() < 200


def test_the_same_seed_gives_the_same_population_even_when_a_run_is_interrupted_and_resumed():
    plan = PopulationPlan(members=60, orders=300, seed=5, today=TODAY, batch=20)
    with transaction.atomic():
        population_generate(plan=plan)
        once = _fingerprint(5)
        transaction.set_rollback(True)
    assert not Member.objects.exists()

    class Interrupted(Exception):
        pass

    def stop_after_two(batch, totals):
        if totals.members == 40:
            raise Interrupted

    with pytest.raises(Interrupted):
        population_generate(plan=plan, on_batch=stop_after_two)
    assert Member.objects.count() == 40  # the two batches committed before the stop
    output = _generate(members=60, orders=300, seed=5, batch=20, no_stats=True)

    assert "20 members, " in output and "2 batches were already there" in output
    assert _fingerprint(5) == once
    assert len(once["orders"]) == 300 and len(once["members"]) == 60


def test_running_again_writes_nothing_and_other_sizes_or_another_seeds_numbers_are_refused():
    _generate(members=40, orders=100, seed=6, batch=20, no_stats=True)
    counts = (Member.objects.count(), Order.objects.count(), PointsEntry.objects.count())

    output = _generate(members=40, orders=100, seed=6, batch=20, no_stats=True)

    assert "Population pop6 already complete (40 members): nothing written." in output
    assert (Member.objects.count(), Order.objects.count(), PointsEntry.objects.count()) == counts
    with pytest.raises(CommandError, match="generated with other sizes"):
        _generate(members=60, orders=500, seed=6, batch=20, no_stats=True)
    with pytest.raises(CommandError, match="not a run of this plan"):
        _generate(members=30, orders=100, seed=6, batch=20, no_stats=True)
    # Seed 96 numbers its members like seed 6 (seed mod 90): refused, nothing written.
    with pytest.raises(CommandError, match="member number of this population is already taken"):
        _generate(members=20, orders=10, seed=96, batch=20, no_stats=True)
    assert (Member.objects.count(), Order.objects.count(), PointsEntry.objects.count()) == counts


def test_refused_under_production_settings_unless_allowed(settings):
    settings.IS_PRODUCTION = True

    with pytest.raises(CommandError, match="refused under production settings"):
        _generate(members=5, orders=5, seed=8)
    assert not Member.objects.exists()

    _generate(members=5, orders=5, seed=8, allow_production=True, no_stats=True)
    assert Member.objects.count() == 5


def test_bad_sizes_are_refused_before_anything_is_written():
    with pytest.raises(PopulationError, match="members must be between"):
        population_generate(plan=PopulationPlan(members=0, orders=5, today=TODAY))
    with pytest.raises(PopulationError, match="orders 0 or more"):
        population_generate(plan=PopulationPlan(members=5, orders=-1, today=TODAY))
    assert not Member.objects.exists()


# --- The ledger's bulk history import ------------------------------------------------------


def _lots(member):
    return list(
        PointsLot.objects.filter(member=member)
        .order_by("earned_at", "pk")
        .values_list("earned_at", "expires_at", "amount", "remaining")
    )


def _entries(member):
    return list(
        PointsEntry.objects.filter(member=member)
        .order_by("created_at", "pk")
        .values_list("kind", "amount", "balance_after", "created_at")
    )


def test_r19_a_bulk_history_writes_what_the_single_movement_functions_write(settings):
    settings.LOYALTY_POINTS_EXPIRY_DAYS = 365
    settings.LOYALTY_RETURN_WINDOW_DAYS = 14
    t0 = datetime(2025, 1, 10, 9, tzinfo=UTC)
    at = t0 + timedelta(days=420)
    one, other = member_factory(), member_factory()
    # Given: a welcome bonus, a redemption too big at that time (left out), an order earn,
    # a redemption taking the oldest lot first, and an order still in its return window.
    history = [
        PastMovement(at=t0, kind="bonus", amount=100, reason="Welcome", idempotency_key="w"),
        PastMovement(
            at=t0 + timedelta(days=5),
            kind="redeem",
            amount=150,
            reason="Too much",
            idempotency_key="x",
        ),
        PastEarn(
            order_id=None,
            key="order:A",
            reason="Order A",
            points=200,
            base_amount=Decimal("200.00"),
            placed_at=t0 + timedelta(days=86),
            confirm_after=t0 + timedelta(days=100),
        ),
        PastMovement(
            at=t0 + timedelta(days=200),
            kind="redeem",
            amount=250,
            reason="Used",
            idempotency_key="r",
        ),
        PastEarn(
            order_id=None,
            key="order:B",
            reason="Order B",
            points=30,
            base_amount=Decimal("30.00"),
            placed_at=at - timedelta(days=3),
            confirm_after=at + timedelta(days=11),
        ),
    ]

    written = points_history_write(history={one.pk: history}, at=at)

    # The same story, one call at a time (the daily expiry job at the lot's expiry).
    points_credit(
        member=other, amount=100, reason="Welcome", idempotency_key="w2", kind="bonus", at=t0
    )
    pending_a = pending_add(
        member=other,
        points=200,
        key="order:A2",
        reason="Order A",
        base_amount=Decimal("200.00"),
        confirm_after=t0 + timedelta(days=100),
    )
    pending_confirm(pending=pending_a, at=t0 + timedelta(days=100))
    points_debit(
        member=other, amount=250, reason="Used", idempotency_key="r2", at=t0 + timedelta(days=200)
    )
    assert points_expire(member=other, at=at) == []
    pending_add(
        member=other,
        points=30,
        key="order:B2",
        reason="Order B",
        base_amount=Decimal("30.00"),
        confirm_after=at + timedelta(days=11),
    )
    one.refresh_from_db()
    other.refresh_from_db()
    assert (written.entries, written.lots, written.pending_earns) == (3, 2, 2)
    assert written.redemptions_skipped == 1
    assert _entries(one) == _entries(other)
    assert (
        _lots(one)
        == _lots(other)
        == [
            (t0, t0 + timedelta(days=365), 100, 0),
            (t0 + timedelta(days=100), t0 + timedelta(days=465), 200, 50),
        ]
    )
    assert (one.balance, one.pending) == (other.balance, other.pending) == (50, 30)
    assert PointsEntry.objects.get(member=one, kind=EntryKind.EARN).idempotency_key == (
        "earn:order:A"
    )
    # The order still in its window is pending; replaying the confirmation later is normal.
    pending_b = PendingEarn.objects.get(key="order:B")
    assert (pending_b.status, pending_b.entry) == (PendingStatus.PENDING, None)
    pending_confirm(pending=pending_b, at=at + timedelta(days=11))
    one.refresh_from_db()
    assert (one.balance, one.pending) == (80, 0)


def test_a_bulk_history_expires_lots_past_their_date_like_the_daily_job(settings):
    settings.LOYALTY_POINTS_EXPIRY_DAYS = 365
    t0 = datetime(2024, 3, 1, 9, tzinfo=UTC)
    member = member_factory()

    points_history_write(
        history={
            member.pk: [
                PastMovement(at=t0, kind="bonus", amount=80, reason="Old", idempotency_key="old")
            ]
        },
        at=t0 + timedelta(days=400),
    )

    member.refresh_from_db()
    lot = PointsLot.objects.get(member=member)
    expiry = PointsEntry.objects.get(member=member, kind=EntryKind.EXPIRE)
    assert (member.balance, lot.remaining) == (0, 0)
    assert (expiry.amount, expiry.balance_after, expiry.created_at) == (
        -80,
        0,
        t0 + timedelta(days=365),
    )
    assert expiry.idempotency_key == f"expire:lot:{lot.pk}"
    # The expiry job finds nothing left to do.
    assert points_expire(member=member, at=t0 + timedelta(days=401)) == []


def test_a_bulk_history_is_refused_for_a_member_who_already_has_points():
    member = member_factory()
    points_credit(member=member, amount=10, reason="Earlier", idempotency_key="earlier")
    fresh = member_factory()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    movement = PastMovement(at=at, kind="bonus", amount=5, reason="New", idempotency_key="n")

    with pytest.raises(ValueError, match="already has a ledger"):
        points_history_write(
            history={fresh.pk: [movement], member.pk: [movement]}, at=at + timedelta(days=1)
        )

    assert not PointsEntry.objects.filter(Q(member=fresh) | Q(idempotency_key="n")).exists()
    fresh.refresh_from_db()
    assert fresh.balance == 0
