"""The points ledger (loyalty/services/ledger/): R18-R21 and bad input."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from oscar.test.factories import UserFactory

from loyalty.models import EntryKind, Member, PendingStatus, PointsEntry, PointsLot
from loyalty.services.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    ReasonRequired,
)
from loyalty.services.ledger import (
    pending_add,
    pending_confirm,
    pending_refund,
    points_credit,
    points_debit,
    points_expire,
    points_reverse,
    proportional_points,
)
from tests.concurrency import slow_writes
from tests.loyalty.conftest import assert_ledger_balanced
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db


def _credit(member, amount, key, **kwargs):
    return points_credit(
        member=member, amount=amount, reason="Order", idempotency_key=key, **kwargs
    )


def _debit(member, amount, key, **kwargs):
    return points_debit(
        member=member, amount=amount, reason="Reward", idempotency_key=key, **kwargs
    )


def _balance(member) -> int:
    return Member.objects.get(pk=member.pk).balance


def test_credit_then_debit_moves_the_cached_balance(member):
    earn = _credit(member, 120, "earn:1")
    spend = _debit(member, 20, "spend:1")

    assert (earn.amount, earn.balance_after) == (120, 120)
    assert (spend.amount, spend.balance_after, spend.kind) == (-20, 100, EntryKind.REDEEM)
    assert _balance(member) == 100


def test_earn_replayed_ten_times_is_one_entry(member):
    entries = [_credit(member, 50, "earn:order-100") for _ in range(10)]

    assert {entry.pk for entry in entries} == {entries[0].pk}
    assert member.entries.count() == 1
    assert _balance(member) == 50


def test_a_replayed_debit_returns_the_original_even_when_it_could_not_run_again(member):
    _credit(member, 100, "earn:1")
    first = _debit(member, 100, "spend:1")

    assert _debit(member, 100, "spend:1").pk == first.pk
    assert _balance(member) == 0


def test_an_idempotency_key_of_another_member_is_refused(member):
    _credit(member, 10, "earn:shared")
    other = member_factory()

    with pytest.raises(IdempotencyConflict):
        _credit(other, 10, "earn:shared")
    assert _balance(other) == 0


@pytest.mark.parametrize("amount", [0, -5, 2.5, "10", True, None])
def test_an_amount_that_is_not_a_positive_whole_number_moves_nothing(member, amount):
    _credit(member, 10, "earn:1")

    with pytest.raises(InvalidAmount):
        _credit(member, amount, "earn:bad")
    with pytest.raises(InvalidAmount):
        _debit(member, amount, "spend:bad")
    assert member.entries.count() == 1
    assert _balance(member) == 10


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_staff_adjustment_without_a_reason_moves_nothing(member, reason):
    staff = UserFactory(is_staff=True)

    with pytest.raises(ReasonRequired):
        points_credit(
            member=member,
            amount=10,
            reason=reason,
            idempotency_key="adjust:1",
            kind=EntryKind.ADJUST,
            staff=staff,
        )
    assert member.entries.count() == 0


def test_a_staff_adjustment_records_who_and_why(member):
    staff = UserFactory(is_staff=True)

    entry = points_credit(
        member=member,
        amount=30,
        reason="  Birthday gesture at the counter ",
        idempotency_key="adjust:1",
        kind=EntryKind.ADJUST,
        staff=staff,
    )

    assert (entry.kind, entry.staff, entry.reason) == (
        EntryKind.ADJUST,
        staff,
        "Birthday gesture at the counter",
    )


def test_spending_more_than_the_balance_moves_nothing(member):
    _credit(member, 99, "earn:1")

    with pytest.raises(InsufficientPoints, match="99 available, 100 asked"):
        _debit(member, 100, "spend:1")
    assert member.entries.count() == 1
    assert list(member.lots.values_list("remaining", flat=True)) == [99]


def test_oldest_points_are_spent_first(member):
    now = timezone.now()
    _credit(member, 100, "earn:old", at=now - timedelta(days=30))
    _credit(member, 100, "earn:new", at=now - timedelta(days=1))

    _debit(member, 150, "spend:1")

    lots = PointsLot.objects.filter(member=member).order_by("earned_at")
    assert [lot.remaining for lot in lots] == [0, 50]


def test_expiry_removes_only_what_is_left_of_a_lot(member):
    now = timezone.now()
    _credit(member, 100, "earn:old", at=now - timedelta(days=400))  # expired 35 days ago
    _credit(member, 40, "earn:new", at=now - timedelta(days=10))
    _debit(member, 70, "spend:1", at=now - timedelta(days=100))

    expired = points_expire(member=member, at=now)

    assert [(e.kind, e.amount) for e in expired] == [(EntryKind.EXPIRE, -30)]
    assert _balance(member) == 40
    assert points_expire(member=member, at=now) == []


def test_expired_points_are_never_spent(member):
    now = timezone.now()
    _credit(member, 100, "earn:old", at=now - timedelta(days=366))

    with pytest.raises(InsufficientPoints):
        _debit(member, 10, "spend:1", at=now)
    # The failed debit's transaction rolled back, so the expiry is still to be written.
    assert _balance(member) == 100
    points_expire(member=member, at=now)
    assert _balance(member) == 0


def test_a_reversal_replayed_ten_times_is_one_entry(member):
    earn = _credit(member, 80, "earn:1")

    reversals = [
        points_reverse(entry=earn, amount=30, reason="Refund", idempotency_key="rev:1:a")
        for _ in range(10)
    ]

    assert {r.pk for r in reversals} == {reversals[0].pk}
    assert (reversals[0].amount, reversals[0].reverses) == (-30, earn)
    assert _balance(member) == 50


def test_a_credit_cannot_be_reversed_beyond_what_it_gave(member):
    earn = _credit(member, 80, "earn:1")
    points_reverse(entry=earn, amount=60, reason="Refund", idempotency_key="rev:1")

    with pytest.raises(InvalidAmount, match="Only 20 points"):
        points_reverse(entry=earn, amount=21, reason="Refund", idempotency_key="rev:2")


def test_reversing_spent_points_stops_at_zero_and_records_the_shortfall(member):
    earn = _credit(member, 80, "earn:1")
    _debit(member, 70, "spend:1")

    reversal = points_reverse(entry=earn, amount=80, reason="Refund", idempotency_key="rev:1")

    assert (reversal.amount, reversal.shortfall) == (-10, 70)
    assert _balance(member) == 0


def test_reversing_a_debit_gives_the_points_back_as_a_new_lot(member):
    _credit(member, 100, "earn:1")
    spend = _debit(member, 100, "spend:1")

    back = points_reverse(entry=spend, amount=100, reason="Reward cancelled", idempotency_key="r")

    assert (back.amount, back.lot.remaining) == (100, 100)
    assert _balance(member) == 100


@pytest.mark.parametrize(
    ("points", "base", "refunded", "expected"),
    [
        (105, "100.00", "0.00", 0),
        (105, "100.00", "33.33", 34),  # 34.99 rounds down: in the member's favour
        (105, "100.00", "66.66", 69),
        (105, "100.00", "100.00", 105),  # a full refund takes back every point
        (105, "100.00", "120.00", 105),
        (7, "0.00", "1.00", 7),
    ],
)
def test_proportional_points_round_down_on_the_cumulative_refund(points, base, refunded, expected):
    assert (
        proportional_points(points=points, base=Decimal(base), refunded=Decimal(refunded))
        == expected
    )


def _pending(member, points=105, base="100.00"):
    return pending_add(
        member=member,
        points=points,
        key="order:100042",
        reason="Order 100042",
        base_amount=Decimal(base),
        confirm_after=timezone.now() + timedelta(days=14),
    )


def test_pending_points_are_confirmed_once(member):
    pending = _pending(member)
    assert (Member.objects.get(pk=member.pk).pending, _balance(member)) == (105, 0)

    entries = [pending_confirm(pending=pending) for _ in range(10)]

    assert {e.pk for e in entries} == {entries[0].pk}
    pending.refresh_from_db()
    assert pending.status == PendingStatus.CONFIRMED
    assert (Member.objects.get(pk=member.pk).pending, _balance(member)) == (0, 105)


def test_partial_refunds_before_confirmation_lower_the_pending_points(member):
    pending = _pending(member)

    taken = [pending_refund(pending=pending, refunded_total=Decimal("33.33")) for _ in range(10)]
    taken.append(pending_refund(pending=pending, refunded_total=Decimal("66.66")))
    entry = pending_confirm(pending=pending)

    assert taken == [34] + [0] * 9 + [35]
    assert entry.amount == 36
    assert _balance(member) == 36


def test_partial_refunds_after_confirmation_reverse_proportionally_once(member):
    pending = _pending(member)
    pending_confirm(pending=pending)

    for total in ["33.33", "66.66", "100.00"]:
        for _ in range(10):
            pending_refund(pending=pending, refunded_total=Decimal(total))

    reversals = PointsEntry.objects.filter(member=member, kind=EntryKind.REVERSAL)
    assert sorted(r.amount for r in reversals) == [-36, -35, -34]
    assert _balance(member) == 0


def test_a_full_refund_before_confirmation_cancels_the_pending_earn(member):
    pending = _pending(member)

    pending_refund(pending=pending, refunded_total=Decimal("100.00"))

    assert pending_confirm(pending=pending) is None
    pending.refresh_from_db()
    assert (pending.status, pending.remaining) == (PendingStatus.CANCELLED, 0)
    assert member.entries.count() == 0


# --- R20: append-only in the database ---------------------------------------------------


def test_updating_an_entry_is_refused_by_the_database(member):
    entry = _credit(member, 10, "earn:1")

    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).update(amount=1000)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE loyalty_pointsentry SET reason = 'x' WHERE id = %s", [entry.pk])

    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (10, "Order")


def test_deleting_an_entry_is_refused_by_the_database(member):
    entry = _credit(member, 10, "earn:1")

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM loyalty_pointsentry WHERE id = %s", [entry.pk])

    assert PointsEntry.objects.filter(pk=entry.pk).exists()


def test_a_negative_balance_is_refused_by_the_database(member):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(balance=-1)


# --- R18: no overdraft under concurrency (PostgreSQL, real threads) ----------------------

ATTEMPTS = 100
THREADS = 20  # 100 connections would exhaust PostgreSQL's default max_connections


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_of_the_whole_balance_succeed_exactly_once():
    member = member_factory()
    _credit(member, 500, "earn:seed")
    start = threading.Barrier(THREADS)
    local = threading.local()

    def redeem(i: int) -> str:
        if not getattr(local, "started", False):
            local.started = True
            start.wait()
        try:
            _debit(Member(pk=member.pk), 500, f"spend:{i}")
            return "ok"
        except InsufficientPoints:
            return "refused"

    def worker(indexes: list[int]) -> list[str]:
        try:
            return [redeem(i) for i in indexes]
        finally:
            connection.close()

    # Inside the critical section (after the balance check, while writing the entry),
    # every debit sleeps in the database: without the row lock, many would pass.
    with (
        slow_writes("loyalty_pointsentry", seconds=0.02, on="INSERT"),
        ThreadPoolExecutor(THREADS) as pool,
    ):
        batches = [list(range(t, ATTEMPTS, THREADS)) for t in range(THREADS)]
        results = [r for batch in pool.map(worker, batches) for r in batch]

    assert (results.count("ok"), results.count("refused")) == (1, ATTEMPTS - 1)
    assert _balance(member) == 0
    assert member.entries.filter(kind=EntryKind.REDEEM).count() == 1
    assert_ledger_balanced()


def test_spent_points_are_not_claimed_twice_by_later_refunds(member):
    pending = _pending(member, points=100, base="100.00")
    pending_confirm(pending=pending)
    _debit(member, 100, "spend:all")

    # Half refunded: 50 points are due back, but the balance is zero.
    pending_refund(pending=pending, refunded_total=Decimal("50.00"))
    _credit(member, 80, "earn:later")
    # The rest refunded: only the second half is taken back from the new points.
    pending_refund(pending=pending, refunded_total=Decimal("100.00"))

    assert _balance(member) == 30
