"""Points adjusted by staff at the member counter, within the marketers' bounds.

An adjustment is asked for with a reason (a category and a text), by a member of staff
at a store's counter (store staff only at a store they work for) or at head office.
The EarningRule bounds it: at most `counter_max_points` points each, at most
`counter_daily_points` points per member of staff and local day (awarded and taken
together, counting those waiting for approval), and above `counter_approval_threshold`
it waits for a second person, who is never the one who asked. Points move only through
the ledger (loyalty.services.ledger), with the idempotency key `adjustment:<key>`, so an
adjustment is posted at most once however often it is sent or approved.

Locks, always in this order: the requesting staff member's user row (FOR NO KEY UPDATE,
so their day's total is read and extended by one request at a time), or the adjustment
row when deciding; then the member's row, taken by the ledger.

PointsAdjustment and PointsAdjustmentDecision rows are append-only (database triggers):
together they are loyalty's audit record of every points adjustment by staff.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.models import (
    AdjustmentCategory,
    AdjustmentDirection,
    EntryKind,
    Member,
    PointsAdjustment,
    PointsAdjustmentDecision,
    PointsEntry,
)
from loyalty.selectors import earning_rule
from loyalty.services.errors import (
    AdjustmentNotPending,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    NotAtYourStore,
    OverAdjustmentLimit,
    ReasonRequired,
    SelfApprovalRefused,
)
from loyalty.services.ledger import points_credit, points_debit

if TYPE_CHECKING:
    from oscar.apps.partner.models import Partner


def _day_bounds(at: datetime) -> tuple[datetime, datetime]:
    """The local day (TIME_ZONE) containing `at`, as aware datetimes."""
    day = timezone.localtime(at).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def points_adjusted_on_day(*, staff: User, at: datetime | None = None) -> int:
    """Points `staff` adjusted on the local day of `at`, rejected adjustments excepted."""
    start, end = _day_bounds(at or timezone.now())
    total = (
        PointsAdjustment.objects.filter(
            requested_by=staff, created_at__gte=start, created_at__lt=end
        )
        .exclude(decision__approved=False)
        .aggregate(total=Sum("points"))["total"]
    )
    return total or 0


def _post(adjustment: PointsAdjustment, *, at: datetime) -> PointsEntry:
    move = points_credit if adjustment.direction == AdjustmentDirection.AWARD else points_debit
    return move(
        member=adjustment.member,
        amount=adjustment.points,
        reason=f"{adjustment.get_category_display()}: {adjustment.reason}",
        idempotency_key=f"adjustment:{adjustment.key}",
        kind=EntryKind.ADJUST,
        staff=adjustment.requested_by,
        at=at,
    )


def _check_store(staff: User, partner: Partner | None) -> None:
    # Head-office staff (is_staff) may adjust anywhere; store staff only at their store.
    if staff.is_staff:
        return
    if partner is None:
        raise NotAtYourStore(_("Choose the store whose counter you are at."))
    # Oscar's Partner.users reverse accessor: Oscar ships no types, so the stubs cannot see it.
    if not staff.partners.filter(pk=partner.pk).exists():  # type: ignore[attr-defined]
        raise NotAtYourStore(_("You can adjust points only at the counter of your store."))


def adjustment_request(
    *,
    member: Member,
    staff: User,
    direction: str,
    points: int,
    category: str,
    reason: str,
    key: str,
    partner: Partner | None = None,
    at: datetime | None = None,
) -> PointsAdjustment:
    """Record an adjustment asked for by `staff`; post it to the ledger unless it needs
    approval. Idempotent on `key`: sending it again returns the first adjustment.

    Raises InvalidAmount, ReasonRequired, OverAdjustmentLimit, NotAtYourStore,
    InsufficientPoints (a debit larger than the balance) or IdempotencyConflict,
    recording and moving nothing.
    """
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise InvalidAmount(_("Enter a whole number of points greater than zero."))
    if not reason or not reason.strip():
        raise ReasonRequired(_("Give a reason for this adjustment."))
    if direction not in AdjustmentDirection.values:
        raise ValueError(f"{direction!r} is not an adjustment direction")
    if category not in AdjustmentCategory.values:
        raise ValueError(f"{category!r} is not an adjustment category")
    _check_store(staff, partner)
    at = at or timezone.now()
    with transaction.atomic():
        # One request per member of staff at a time: the day's total cannot be raced.
        list(
            get_user_model()
            .objects.select_for_update(no_key=True)
            .filter(pk=staff.pk)
            .values_list("pk", flat=True)
        )
        existing = PointsAdjustment.objects.filter(key=key).first()
        if existing is not None:
            if (existing.member_id, existing.requested_by_id) != (member.pk, staff.pk):
                raise IdempotencyConflict(_("This form was already used for another adjustment."))
            return existing
        rule = earning_rule()
        if points > rule.counter_max_points:
            raise OverAdjustmentLimit(
                _("At most %(max)s points per adjustment.") % {"max": rule.counter_max_points}
            )
        used = points_adjusted_on_day(staff=staff, at=at)
        if used + points > rule.counter_daily_points:
            raise OverAdjustmentLimit(
                _("At most %(max)s points a day per member of staff: you have %(left)s left today.")
                % {
                    "max": rule.counter_daily_points,
                    "left": max(rule.counter_daily_points - used, 0),
                }
            )
        adjustment = PointsAdjustment(
            member=member,
            direction=direction,
            points=points,
            category=category,
            reason=reason.strip(),
            requested_by=staff,
            partner=partner,
            needs_approval=points > rule.counter_approval_threshold,
            key=key,
            created_at=at,
        )
        if adjustment.needs_approval:
            # Told now rather than at approval; the ledger still refuses an overdraft then.
            balance = Member.objects.values_list("balance", flat=True).get(pk=member.pk)
            if direction == AdjustmentDirection.DEDUCT and balance < points:
                raise InsufficientPoints(
                    _("Not enough points: %(balance)s available, %(amount)s asked.")
                    % {"balance": balance, "amount": points}
                )
        else:
            adjustment.entry = _post(adjustment, at=at)
        adjustment.save(force_insert=True)
    return adjustment


def adjustment_decide(
    *,
    adjustment: PointsAdjustment,
    approver: User,
    approve: bool,
    note: str = "",
    at: datetime | None = None,
) -> PointsAdjustmentDecision:
    """Approve (post to the ledger) or reject an adjustment waiting for approval.

    The caller checks the permission; this refuses the person who asked
    (SelfApprovalRefused), an adjustment already decided or never waiting
    (AdjustmentNotPending), and a debit the balance no longer covers
    (InsufficientPoints: nothing decided, it can still be rejected).
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = (
            PointsAdjustment.objects.select_for_update()
            .select_related("member", "requested_by")
            .get(pk=adjustment.pk)
        )
        if locked.requested_by_id == approver.pk:
            raise SelfApprovalRefused(
                _("Another person must approve or reject an adjustment you asked for.")
            )
        if (
            not locked.needs_approval
            or PointsAdjustmentDecision.objects.filter(adjustment=locked).exists()
        ):
            raise AdjustmentNotPending(_("This adjustment is not waiting for approval."))
        entry = _post(locked, at=at) if approve else None
        return PointsAdjustmentDecision.objects.create(
            adjustment=locked,
            approved=approve,
            decided_by=approver,
            note=note.strip(),
            entry=entry,
            created_at=at,
        )
