"""The day's limit per member of staff holds under concurrency (PostgreSQL, real threads)."""

import pytest
from django.db.models import Sum
from django.urls import reverse

from loyalty.models import AdjustmentCategory, PointsAdjustment, PointsEntry
from tests.concurrency import hold_row_locks, run_concurrently
from tests.loyalty.counter_helpers import logged_in, store_partner, store_staff
from tests.loyalty.factories import member_factory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_20_concurrent_adjustments_by_one_member_of_staff_never_exceed_the_daily_limit():
    # Given store staff, the default limits (2,000 a day, approval above 200) and 20
    # members; 20 requests of 150 points (posted at once) would make 3,000.
    centre = store_partner("Centre")
    staff = store_staff(centre)
    members = [member_factory() for _ in range(20)]
    clients = [logged_in(staff) for _ in members]
    url = reverse("loyalty_dashboard:loyalty-counter-adjust")

    def post(i: int):
        def call():
            return clients[i].post(
                url,
                {
                    "number": members[i].number,
                    "direction": "award",
                    "points": 150,
                    "category": AdjustmentCategory.GOODWILL,
                    "reason": "Birthday gesture",
                    "store": centre.pk,
                    "key": f"k{i}",
                },
            )

        return call

    # When all 20 are inside their transaction together, waiting on the staff member's row
    results = run_concurrently(
        [post(i) for i in range(20)],
        lock=hold_row_locks("auth_user", [staff.pk]),
        until_blocked=20,
    )

    # Then 13 x 150 = 1,950 went through and the 14th would have passed 2,000
    statuses = sorted(getattr(r, "status_code", repr(r)) for r in results)
    assert statuses == [200] * 7 + [302] * 13
    assert PointsAdjustment.objects.aggregate(total=Sum("points"))["total"] == 1950
    assert PointsEntry.objects.aggregate(total=Sum("amount"))["total"] == 1950
    refused = [r for r in results if r.status_code == 200]
    assert all(
        "At most 2000 points a day per member of staff: you have 50 left today."
        in r.content.decode()
        for r in refused
    )
