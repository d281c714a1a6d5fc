"""Pending points of a click & collect order: the return window starts at collection."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oscar.test.factories import UserFactory

from loyalty.models import PendingEarn, PendingStatus
from loyalty.services.earning import pending_confirm_due
from stores.models import Pickup, PickupStatus
from stores.services import pickup_cancel, pickup_hand_over
from stores.signals import pickup_cancelled, pickup_collected
from tests.stores.factories import pickup_order, store

pytestmark = pytest.mark.django_db


def test_collecting_starts_the_return_window_and_the_task_confirms_after_it(settings):
    settings.LOYALTY_RETURN_WINDOW_DAYS = 14
    pickup = pickup_order(store("Centre"), user=UserFactory(), status=PickupStatus.READY)
    pending = PendingEarn.objects.get(order=pickup.order)
    window_from_placement = pending.confirm_after
    collected_at = timezone.now() + timedelta(days=10)

    pickup_hand_over(pickup=pickup, code=pickup.code, now=collected_at)

    pending.refresh_from_db()
    assert pending.confirm_after == collected_at + timedelta(days=14)
    # Not confirmed when the window counted from the order would have ended...
    assert pending_confirm_due(at=window_from_placement + timedelta(seconds=1)) == 0
    assert pending_confirm_due(at=collected_at + timedelta(days=14, seconds=-1)) == 0
    # ...but 14 days after collection
    assert pending_confirm_due(at=collected_at + timedelta(days=14)) == 1
    pending.refresh_from_db()
    assert pending.status == PendingStatus.CONFIRMED
    assert pending.member.balance == pending.points


def test_a_replayed_or_early_signal_never_brings_the_window_forward(settings):
    settings.LOYALTY_RETURN_WINDOW_DAYS = 14
    pickup = pickup_order(store("Centre"), user=UserFactory(), status=PickupStatus.READY)
    collected_at = timezone.now() + timedelta(days=3)
    pickup_hand_over(pickup=pickup, code=pickup.code, now=collected_at)

    for at in (collected_at, collected_at - timedelta(days=2)):
        pickup_collected.send(sender=Pickup, pickup=pickup, order=pickup.order, collected_at=at)

    pending = PendingEarn.objects.get(order=pickup.order)
    assert pending.confirm_after == collected_at + timedelta(days=14)


def test_a_wrong_code_collects_nothing_and_leaves_the_window(settings):
    pickup = pickup_order(store("Centre"), user=UserFactory(), status=PickupStatus.READY)
    before = PendingEarn.objects.get(order=pickup.order).confirm_after

    with pytest.raises(Exception, match="pickup code"):
        pickup_hand_over(pickup=pickup, code="WRONG1", now=timezone.now() + timedelta(days=5))

    assert PendingEarn.objects.get(order=pickup.order).confirm_after == before


def test_an_uncollected_pickup_takes_its_pending_points_back_once():
    pickup = pickup_order(store("Centre"), user=UserFactory(), status=PickupStatus.READY)
    pending = PendingEarn.objects.get(order=pickup.order)
    assert pending.status == PendingStatus.PENDING and pending.points > 0

    pickup_cancel(pickup=pickup, now=timezone.now(), status=PickupStatus.UNCOLLECTED)
    # A replayed signal changes nothing more
    pickup_cancelled.send(
        sender=Pickup, pickup=pickup, order=pickup.order, status=PickupStatus.UNCOLLECTED
    )

    pending.refresh_from_db()
    assert pending.status == PendingStatus.CANCELLED
    assert pending_confirm_due(at=timezone.now() + timedelta(days=365)) == 0
    pending.member.refresh_from_db()
    assert pending.member.balance == 0


def test_a_guest_pickup_has_no_points_to_confirm():
    pickup = pickup_order(store("Centre"), status=PickupStatus.READY)
    pickup_hand_over(pickup=pickup, code=pickup.code, now=timezone.now())
    assert not PendingEarn.objects.exists()


def test_stores_never_imports_loyalty():
    """ARCHITECTURE.md: loyalty listens to stores' signal; stores knows nothing of loyalty."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "stores"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] == "loyalty"]
    assert offenders == []
