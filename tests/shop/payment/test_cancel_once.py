"""An order's cancellation does its work once (shop/orders/cancellation.py, order_cancel):
counted with real signal receivers and the rows written, nothing patched."""

import pytest
from django.urls import reverse
from oscar.apps.order.signals import order_status_changed
from oscar.core.loading import get_model

from loyalty.models import Member, PendingEarn, PendingStatus
from stores.models import PickupSlot, PickupStatus
from stores.signals import pickup_cancelled
from tests.shop.checkout_fixtures import ledger_balanced, pickup_with_points  # noqa: F401 (R19 after each test)
from tests.shop.payment.helpers import FINANCE, staff_client

StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db


def test_a_cancelled_pickup_order_gives_everything_back_once(client):
    order, pickup, _shop, _response = pickup_with_points(client)  # 200 points + 10.26
    member = Member.objects.get()
    entries_before = set(member.entries.values_list("pk", flat=True))
    delivered: dict[str, list] = {"pickup_cancelled": [], "order_status_changed": []}

    def on_pickup_cancelled(sender, pickup, order, status, **kwargs):
        delivered["pickup_cancelled"].append(order.number)

    def on_status_changed(sender, order, old_status, new_status, **kwargs):
        delivered["order_status_changed"].append((old_status, new_status))

    pickup_cancelled.connect(on_pickup_cancelled, weak=False, dispatch_uid="test-once-pickup")
    order_status_changed.connect(on_status_changed, weak=False, dispatch_uid="test-once-status")
    try:
        staff = staff_client(*FINANCE, "order.change_order")
        response = staff.post(
            reverse("dashboard:order-detail", kwargs={"number": order.number}),
            {"order_action": "change_order_status", "new_status": "Cancelled"},
        )
    finally:
        pickup_cancelled.disconnect(dispatch_uid="test-once-pickup")
        order_status_changed.disconnect(dispatch_uid="test-once-status")
    assert response.status_code == 302

    # One status change; the pickup is released by the cancellation itself, so the
    # receivers of pickup_cancelled (loyalty, payment) are not run a second time.
    assert delivered == {"pickup_cancelled": [], "order_status_changed": [("Pending", "Cancelled")]}
    new_entries = member.entries.exclude(pk__in=entries_before)
    assert list(new_entries.values_list("kind", "amount")) == [("reversal", 200)]
    member.refresh_from_db()
    assert (member.balance, member.pending) == (1500, 0)
    assert PendingEarn.objects.get().status == PendingStatus.CANCELLED
    pickup.refresh_from_db()
    assert pickup.status == PickupStatus.CANCELLED
    assert PickupSlot.objects.get().booked == 0
    record = StockRecord.objects.get(partner__name="Centre")
    assert (record.num_in_stock, record.num_allocated) == (5, 0)
