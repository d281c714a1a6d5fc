"""The member counter: lookups by role, rate limits, adjustments within the marketers'
bounds, a second person above the threshold (README: "Member counter and audit log")."""

import pytest
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django_ratelimit.core import get_usage

from loyalty.dashboard.views import COUNTER_LOOKUP_GROUP, COUNTER_LOOKUP_RATE
from loyalty.models import (
    AdjustmentCategory,
    AdjustmentDirection,
    EarningRule,
    EntryKind,
    PointsAdjustment,
    PointsAdjustmentDecision,
    PointsEntry,
)
from loyalty.selectors import earning_rule
from loyalty.services.adjustments import (
    adjustment_decide,
    adjustment_request,
    points_adjusted_on_day,
)
from loyalty.services.earning import earning_rule_ensure
from loyalty.services.errors import NotAtYourStore, SelfApprovalRefused
from loyalty.services.ledger import points_credit, points_debit
from tests.loyalty.counter_helpers import (
    logged_in,
    marketer,
    store_partner,
    store_staff,
    support,
    user_with,
)
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db

COUNTER = reverse("loyalty_dashboard:loyalty-counter")
ADJUST = reverse("loyalty_dashboard:loyalty-counter-adjust")
APPROVALS = reverse("loyalty_dashboard:loyalty-adjustment-list")


def decide_url(adjustment) -> str:
    return reverse("loyalty_dashboard:loyalty-adjustment-decide", kwargs={"pk": adjustment.pk})


@pytest.fixture
def centre():
    return store_partner("Centre")


@pytest.fixture
def jane():
    return member_factory(first_name="Jane", last_name="Doe", email="jane.doe@example.com")


def adjust(client, member, *, points, direction="award", key="k1", store=None, **extra):
    data = {
        "number": member.number,
        "direction": direction,
        "points": points,
        "category": AdjustmentCategory.MISSED_EARN,
        "reason": "Receipt 4411 not scanned",
        "key": key,
        **extra,
    }
    if store is not None:
        data["store"] = store.pk
    return client.post(ADJUST, data)


# --- Lookups -------------------------------------------------------------------------------


def test_a_marketer_gets_403_at_the_counter(jane):
    client = logged_in(marketer())

    lookup = client.get(COUNTER, {"number": jane.number})
    adjusted = adjust(client, jane, points=10)

    assert (lookup.status_code, adjusted.status_code) == (403, 403)
    assert jane.number.encode() not in lookup.content
    assert not PointsAdjustment.objects.exists()


def test_the_counter_is_hidden_from_the_marketers_menu():
    page = logged_in(marketer()).get(reverse("dashboard:index"))

    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{COUNTER}"' not in html
    assert f'href="{APPROVALS}"' not in html
    assert f'href="{reverse("loyalty_dashboard:loyalty-counter-limits")}"' in html


def test_store_staff_see_only_what_the_counter_needs(centre, jane):
    points_credit(member=jane, amount=120, reason="Order 1001", idempotency_key="o:1")
    client = logged_in(store_staff(centre))

    page = client.get(COUNTER, {"number": f"{jane.number[:5]} {jane.number[5:]}"})

    assert page.status_code == 200
    found = page.context["found"]
    assert (found.name, found.email, found.balance, found.tier_label) == (
        "Jane Doe",
        "j***@example.com",
        120,
        "Bronze",
    )
    assert [(e.amount, e.reason) for e in found.entries] == [(120, "Order 1001")]
    html = page.content.decode()
    assert "j***@example.com" in html
    assert "jane.doe@example.com" not in html


def test_a_mistyped_member_number_is_caught(centre, jane):
    wrong = jane.number[:-1] + str((int(jane.number[-1]) + 1) % 10)

    page = logged_in(store_staff(centre)).get(COUNTER, {"number": wrong})

    assert "not a valid member number" in page.content.decode()
    assert page.context["found"] is None


def use_up_lookups(user, count: int) -> None:
    """Count `count` lookups for `user` through django-ratelimit itself, as the counter
    does, so the test reaches the limit in milliseconds rather than across its window."""
    request = RequestFactory().get(COUNTER)
    request.user = user
    for _ in range(count):
        get_usage(
            request,
            group=COUNTER_LOOKUP_GROUP,
            key="user",
            rate=COUNTER_LOOKUP_RATE,
            increment=True,
        )


LOOKUP_LIMIT = int(COUNTER_LOOKUP_RATE.split("/")[0])


def test_lookups_are_rate_limited_per_member_of_staff(centre, jane):
    busy_staff, other_staff = store_staff(centre), store_staff(centre)
    busy, other = logged_in(busy_staff), logged_in(other_staff)
    use_up_lookups(busy_staff, LOOKUP_LIMIT - 1)

    last = busy.get(COUNTER, {"number": jane.number})
    over = busy.get(COUNTER, {"number": jane.number})

    assert last.status_code == 200
    assert over.status_code == 429
    assert int(over["Retry-After"]) >= 1
    assert "looked up too many members" in over.content.decode()
    assert jane.number.encode() not in over.content
    # Another member of staff at the same counter is counted on their own.
    assert other.get(COUNTER, {"number": jane.number}).status_code == 200


def test_adjustment_posts_count_as_lookups(centre, jane):
    staff = store_staff(centre)
    client = logged_in(staff)
    use_up_lookups(staff, LOOKUP_LIMIT - 1)

    refused_form = adjust(client, jane, points=-1, store=centre, key="k1")
    over = adjust(client, jane, points=10, store=centre, key="k2")

    assert refused_form.status_code == 200
    assert jane.number in refused_form.content.decode()  # a refused form shows the member
    assert over.status_code == 429
    assert jane.number.encode() not in over.content
    assert not PointsAdjustment.objects.exists()


# --- Adjustments within bounds ---------------------------------------------------------------


def test_a_small_award_is_posted_at_once_with_its_store_and_reason(centre, jane):
    staff = store_staff(centre)
    client = logged_in(staff)

    first = adjust(client, jane, points=40, store=centre)
    again = adjust(client, jane, points=40, store=centre)  # the same form sent twice

    assert (first.status_code, again.status_code) == (302, 302)
    adjustment = PointsAdjustment.objects.get()
    assert (
        adjustment.requested_by,
        adjustment.partner,
        adjustment.needs_approval,
        adjustment.category,
        adjustment.reason,
    ) == (staff, centre, False, AdjustmentCategory.MISSED_EARN, "Receipt 4411 not scanned")
    entry = jane.entries.get()
    assert (entry.amount, entry.kind, entry.staff, entry.idempotency_key) == (
        40,
        EntryKind.ADJUST,
        staff,
        "adjustment:k1",
    )
    assert adjustment.entry == entry
    jane.refresh_from_db()
    assert jane.balance == 40


def test_store_staffs_million_points_is_a_form_error(centre, jane):
    page = adjust(logged_in(store_staff(centre)), jane, points=1_000_000, store=centre)

    assert page.status_code == 200
    assert page.context["adjust_form"].errors == {"points": ["At most 500 points per adjustment."]}
    assert not PointsAdjustment.objects.exists()
    assert not PointsEntry.objects.exists()


@pytest.mark.parametrize(
    ("points", "error"),
    [
        (2**31, "Ensure this value is less than or equal to 2147483647."),
        (10**30, "Ensure this value is less than or equal to 2147483647."),
        (-5, "Ensure this value is greater than or equal to 1."),
        (0, "Ensure this value is greater than or equal to 1."),
        ("12abc", "Enter a whole number."),
    ],
)
def test_out_of_range_points_are_a_form_error_never_a_500(centre, jane, points, error):
    page = adjust(logged_in(store_staff(centre)), jane, points=points, store=centre)

    assert page.status_code == 200
    assert page.context["adjust_form"].errors == {"points": [error]}
    assert not PointsEntry.objects.exists()


def test_a_reason_is_required(centre, jane):
    client = logged_in(store_staff(centre))

    blank = adjust(client, jane, points=10, store=centre, reason="   ")
    no_category = adjust(client, jane, points=10, store=centre, category="")

    assert blank.context["adjust_form"].errors == {"reason": ["This field is required."]}
    assert no_category.context["adjust_form"].errors == {"category": ["This field is required."]}
    assert not PointsAdjustment.objects.exists()


def test_store_staff_adjust_only_at_their_own_stores_counter(centre, jane):
    elsewhere = store_partner("Robertsau")
    staff = store_staff(centre)

    page = adjust(logged_in(staff), jane, points=10, store=elsewhere)
    nowhere = adjust(logged_in(staff), jane, points=10, key="k2")

    assert "store" in page.context["adjust_form"].errors
    assert nowhere.context["adjust_form"].errors == {"store": ["This field is required."]}
    with pytest.raises(NotAtYourStore):
        adjustment_request(
            member=jane,
            staff=staff,
            direction=AdjustmentDirection.AWARD,
            points=10,
            category=AdjustmentCategory.GOODWILL,
            reason="x",
            key="k3",
            partner=elsewhere,
        )
    assert not PointsAdjustment.objects.exists()


def test_a_debit_never_overdraws(centre, jane):
    points_credit(member=jane, amount=50, reason="Order", idempotency_key="o:1")
    client = logged_in(store_staff(centre))

    page = adjust(client, jane, points=100, direction="deduct", store=centre)

    assert page.status_code == 200
    assert "Not enough points: 50 available, 100 asked." in page.content.decode()
    assert not PointsAdjustment.objects.exists()
    jane.refresh_from_db()
    assert jane.balance == 50


def test_only_staff_with_the_adjust_permission_adjust(centre, jane):
    looker = user_with(["partner.dashboard_access", "loyalty.view_member"], is_staff=False)
    centre.users.add(looker)
    client = logged_in(looker)

    page = client.get(COUNTER, {"number": jane.number})
    refused = adjust(client, jane, points=10, store=centre)

    assert page.status_code == 200
    assert page.context["adjust_form"] is None
    assert refused.status_code == 403
    assert not PointsAdjustment.objects.exists()


# --- A second person above the threshold -------------------------------------------------------


def test_250_points_wait_for_approval_and_post_once_when_support_approves(centre, jane):
    staff, approver = store_staff(centre), support()

    asked = adjust(logged_in(staff), jane, points=250, store=centre)

    assert asked.status_code == 302
    adjustment = PointsAdjustment.objects.get()
    assert (adjustment.needs_approval, adjustment.entry) == (True, None)
    assert not jane.entries.exists()
    listing = logged_in(approver).get(APPROVALS)
    assert list(listing.context["pending"]) == [adjustment]

    client = logged_in(approver)
    approved = client.post(decide_url(adjustment), {"action": "approve", "note": "Checked"})
    replayed = client.post(decide_url(adjustment), {"action": "approve"})

    assert (approved.status_code, replayed.status_code) == (302, 302)
    decision = PointsAdjustmentDecision.objects.get()
    entry = jane.entries.get()
    assert (decision.approved, decision.decided_by, decision.entry, decision.note) == (
        True,
        approver,
        entry,
        "Checked",
    )
    assert (entry.amount, entry.idempotency_key, entry.staff) == (
        250,
        f"adjustment:{adjustment.key}",
        staff,
    )
    jane.refresh_from_db()
    assert jane.balance == 250
    assert list(logged_in(approver).get(APPROVALS).context["pending"]) == []


def test_self_approval_is_refused(jane):
    person = support()
    client = logged_in(person)
    adjust(client, jane, points=250)
    adjustment = PointsAdjustment.objects.get()

    response = client.post(decide_url(adjustment), {"action": "approve"}, follow=True)

    assert "Another person must approve or reject an adjustment you asked for." in (
        response.content.decode()
    )
    assert not PointsAdjustmentDecision.objects.exists()
    assert not jane.entries.exists()
    with pytest.raises(SelfApprovalRefused):
        adjustment_decide(adjustment=adjustment, approver=person, approve=False)


def test_store_staff_without_the_approve_permission_cannot_approve(centre, jane):
    adjust(logged_in(support()), jane, points=250)
    adjustment = PointsAdjustment.objects.get()
    client = logged_in(store_staff(centre))

    assert client.get(APPROVALS).status_code == 403
    assert client.post(decide_url(adjustment), {"action": "approve"}).status_code == 403
    assert not PointsAdjustmentDecision.objects.exists()


def test_a_rejection_moves_nothing_and_frees_the_days_allowance(centre, jane):
    staff = store_staff(centre)
    adjust(logged_in(staff), jane, points=300, store=centre)
    adjustment = PointsAdjustment.objects.get()

    logged_in(support()).post(decide_url(adjustment), {"action": "reject", "note": "No receipt"})

    decision = PointsAdjustmentDecision.objects.get()
    assert (decision.approved, decision.entry) == (False, None)
    assert not jane.entries.exists()
    assert points_adjusted_on_day(staff=staff) == 0


def test_approving_a_debit_the_balance_no_longer_covers_is_refused(centre, jane):
    points_credit(member=jane, amount=400, reason="Order", idempotency_key="o:1")
    adjust(logged_in(store_staff(centre)), jane, points=300, direction="deduct", store=centre)
    adjustment = PointsAdjustment.objects.get()

    points_debit(member=jane, amount=200, reason="Reward", idempotency_key="r:1")

    page = logged_in(support()).post(decide_url(adjustment), {"action": "approve"}, follow=True)

    assert "Not enough points: 200 available, 300 asked." in page.content.decode()
    assert not PointsAdjustmentDecision.objects.exists()
    jane.refresh_from_db()
    assert jane.balance == 200


# --- The day's limit -------------------------------------------------------------------------


def test_the_daily_limit_per_member_of_staff(centre, jane):
    client = logged_in(store_staff(centre))
    for i in range(4):  # 4 x 500 = the default 2,000 a day, each waiting for approval
        assert adjust(client, jane, points=500, store=centre, key=f"k{i}").status_code == 302

    page = adjust(client, jane, points=1, store=centre, key="k-over")

    assert page.status_code == 200
    assert (
        "At most 2000 points a day per member of staff: you have 0 left today."
        in page.content.decode()
    )
    assert PointsAdjustment.objects.count() == 4


# --- The marketers' bounds ---------------------------------------------------------------------


def test_marketers_set_the_counter_limits(jane, centre):
    url = reverse("loyalty_dashboard:loyalty-counter-limits")
    client = logged_in(marketer())

    saved = client.post(
        url,
        {"counter_max_points": 100, "counter_daily_points": 300, "counter_approval_threshold": 0},
    )
    refused = client.post(
        url,
        {
            "counter_max_points": 2**31,
            "counter_daily_points": -1,
            "counter_approval_threshold": 200,
        },
    )

    assert saved.status_code == 302
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "counter_max_points": ["Enter a number of points from 1 to 1,000,000."],
        "counter_daily_points": ["Enter a number of points from 1 to 10,000,000."],
    }
    rule = earning_rule()
    assert (
        rule.counter_max_points,
        rule.counter_daily_points,
        rule.counter_approval_threshold,
    ) == (100, 300, 0)
    # Threshold 0: even 10 points wait for a second person.
    adjust(logged_in(store_staff(centre)), jane, points=10, store=centre)
    assert PointsAdjustment.objects.get().needs_approval is True


def test_store_staff_cannot_change_the_counter_limits(centre):
    client = logged_in(store_staff(centre))

    response = client.post(
        reverse("loyalty_dashboard:loyalty-counter-limits"),
        {"counter_max_points": 10**6, "counter_daily_points": 10**7},
    )

    assert response.status_code == 403
    assert earning_rule().counter_max_points == 500


def test_the_database_refuses_inconsistent_limits():
    earning_rule_ensure()
    with pytest.raises(IntegrityError), transaction.atomic():
        EarningRule.objects.update(counter_max_points=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        EarningRule.objects.update(counter_daily_points=100)  # below the 500 per adjustment
    with pytest.raises(IntegrityError), transaction.atomic():
        EarningRule.objects.update(counter_approval_threshold=501)


def test_adjustments_and_decisions_are_append_only_in_the_database(jane):
    adjust(logged_in(support()), jane, points=250)
    adjustment = PointsAdjustment.objects.get()
    decision = adjustment_decide(adjustment=adjustment, approver=support(), approve=False)

    for model, row in [(PointsAdjustment, adjustment), (PointsAdjustmentDecision, decision)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.filter(pk=row.pk).update(created_at=row.created_at)
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.filter(pk=row.pk).delete()
    assert (PointsAdjustment.objects.count(), PointsAdjustmentDecision.objects.count()) == (1, 1)
