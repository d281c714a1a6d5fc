"""Pickup lifecycle: ready notifies, handover needs the code, cancel releases stock, sweep."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from oscar.core.loading import get_model

from stores.models import PickupStatus
from stores.services import (
    PickupCodeInvalid,
    PickupTransitionError,
    pickup_cancel,
    pickup_customer_arrived,
    pickup_hand_over,
    pickup_mark_preparing,
    pickup_mark_ready,
    pickup_qr_payload,
    pickups_sweep,
)
from stores.tasks import pickups_sweep_task
from tests.stores.factories import ALWAYS_OPEN, pickup_order, store

CommunicationEvent = get_model("order", "CommunicationEvent")

pytestmark = pytest.mark.django_db


def stock_of(pickup):
    record = pickup.order.lines.get().stockrecord
    record.refresh_from_db()
    return record.num_in_stock, record.num_allocated


def test_ready_notifies_the_customer_once_committed(django_capture_on_commit_callbacks):
    pickup = pickup_order(store("Centre"), quantity=2)
    pickup_mark_preparing(pickup=pickup)

    with django_capture_on_commit_callbacks(execute=True):
        pickup_mark_ready(pickup=pickup, now=timezone.now())

    assert pickup.status == PickupStatus.READY
    event = CommunicationEvent.objects.get(order=pickup.order)
    assert event.event_type.code == "PICKUP_READY"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # With Redis the communication app delivers from its outbox in a worker.
        assert [m.subject for m in mail.outbox] == [
            f"Your order {pickup.order.number} is ready at Centre"
        ]
        assert pickup.code in mail.outbox[0].body


def test_handover_needs_the_code_or_the_qr_and_consumes_the_stock():
    pickup = pickup_order(store("Centre"), quantity=2, in_stock=5, status=PickupStatus.READY)
    assert stock_of(pickup) == (5, 2)

    with pytest.raises(PickupCodeInvalid):
        pickup_hand_over(
            pickup=pickup, code="000000" if pickup.code != "000000" else "1", now=timezone.now()
        )
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.READY

    pickup_hand_over(pickup=pickup, code=pickup_qr_payload(pickup=pickup), now=timezone.now())

    assert pickup.status == PickupStatus.COLLECTED
    assert stock_of(pickup) == (3, 0)
    with pytest.raises(PickupTransitionError):
        pickup_hand_over(pickup=pickup, code=pickup.code, now=timezone.now())


def test_cancel_releases_the_allocation_and_the_slot_place():
    pickup = pickup_order(store("Centre"), quantity=2, in_stock=5)

    pickup_cancel(pickup=pickup, now=timezone.now())

    assert pickup.status == PickupStatus.CANCELLED
    assert stock_of(pickup) == (5, 0)
    pickup.slot.refresh_from_db()
    assert pickup.slot.booked == 0
    with pytest.raises(PickupTransitionError):
        pickup_mark_ready(pickup=pickup, now=timezone.now())


def test_customer_arrival_is_recorded_only_while_active():
    pickup = pickup_order(store("Centre", hours=ALWAYS_OPEN), starts_in=dt.timedelta(minutes=20))
    now = timezone.now()

    pickup_customer_arrived(pickup=pickup, now=now)

    assert pickup.customer_arrived_at == now
    pickup_cancel(pickup=pickup, now=now)
    with pytest.raises(PickupTransitionError):
        pickup_customer_arrived(pickup=pickup, now=now)


@override_settings(STORES_PICKUP_REMIND_DAYS=2, STORES_PICKUP_CANCEL_DAYS=5)
def test_sweep_reminds_then_cancels_uncollected_pickups(django_capture_on_commit_callbacks):
    shop = store("Centre")
    now = timezone.now()
    fresh = pickup_order(shop, status=PickupStatus.READY)
    waiting = pickup_order(shop, status=PickupStatus.READY)
    forgotten = pickup_order(shop, quantity=3, in_stock=3, status=PickupStatus.READY)
    for pickup, days in [(fresh, 1), (waiting, 3), (forgotten, 6)]:
        type(pickup).objects.filter(pk=pickup.pk).update(ready_at=now - dt.timedelta(days=days))

    # The task is a thin wrapper; called directly, it runs in this test's transaction.
    with django_capture_on_commit_callbacks(execute=True):
        result = pickups_sweep_task()

    assert result == {"reminded": 1, "cancelled": 1}
    for pickup in (fresh, waiting, forgotten):
        pickup.refresh_from_db()
    assert (fresh.status, fresh.reminded_at) == (PickupStatus.READY, None)
    assert waiting.status == PickupStatus.READY and waiting.reminded_at is not None
    assert forgotten.status == PickupStatus.UNCOLLECTED
    assert stock_of(forgotten) == (3, 0)
    assert [e.event_type.code for e in CommunicationEvent.objects.filter(order=waiting.order)] == [
        "PICKUP_REMINDER"
    ]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert [m.subject for m in mail.outbox] == [
            f"Your order {waiting.order.number} is waiting at Centre"
        ]
    # A second run has nothing left to do.
    assert pickups_sweep(now=now) == (0, 0)
