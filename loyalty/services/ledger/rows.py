"""The steps every movement of points is made of: lock the member, check the amount,
replay an idempotency key, write an entry, add, take from and expire lots.

Only the ledger's own modules write with these; `member_lock` and
`entry_reversed_points` are also read by loyalty.services.redemption and rewards.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Sum
from django.utils.translation import gettext as _

from loyalty.models import (
    EntryKind,
    Member,
    PointsEntry,
    PointsLot,
)
from loyalty.services.errors import (
    IdempotencyConflict,
    InvalidAmount,
    ReasonRequired,
)

if TYPE_CHECKING:
    from oscar.apps.order.models import Order


def member_lock(member: Member) -> Member:
    """Lock and re-read the member row; callers must be inside transaction.atomic()."""
    return Member.objects.select_for_update().get(pk=member.pk)


def movement_check(amount: object, reason: str) -> None:
    # bool is an int in Python; True points is a bug in the caller, not one point.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount(_("Enter a whole number of points greater than zero."))
    if not reason or not reason.strip():
        raise ReasonRequired(_("Give a reason for this movement of points."))


def entry_replayed(member: Member, idempotency_key: str) -> PointsEntry | None:
    entry = PointsEntry.objects.filter(idempotency_key=idempotency_key).first()
    if entry is not None and entry.member_id != member.pk:
        raise IdempotencyConflict(
            _("This operation was already recorded for another member (%(key)s).")
            % {"key": idempotency_key}
        )
    return entry


def expiry_default(at: datetime) -> datetime | None:
    days = settings.LOYALTY_POINTS_EXPIRY_DAYS
    return at + timedelta(days=days) if days else None


def entry_write(
    locked: Member,
    *,
    kind: str,
    amount: int,
    reason: str,
    idempotency_key: str,
    at: datetime,
    staff: User | None = None,
    order: Order | None = None,
    reverses: PointsEntry | None = None,
    shortfall: int = 0,
) -> PointsEntry:
    locked.balance += amount
    locked.save(update_fields=["balance"])
    return PointsEntry.objects.create(
        member=locked,
        kind=kind,
        amount=amount,
        balance_after=locked.balance,
        reason=reason.strip(),
        idempotency_key=idempotency_key,
        staff=staff,
        order=order,
        reverses=reverses,
        shortfall=shortfall,
        created_at=at,
    )


def lot_add(entry: PointsEntry, *, at: datetime, expires_at: datetime | None) -> PointsLot:
    return PointsLot.objects.create(
        member_id=entry.member_id,
        entry=entry,
        earned_at=at,
        expires_at=expires_at,
        amount=entry.amount,
        remaining=entry.amount,
    )


def lots_take(locked: Member, points: int, *, first: PointsLot | None = None) -> None:
    """Take `points` from the member's lots, `first` then oldest first."""
    lots = list(locked.lots.filter(remaining__gt=0).order_by("earned_at", "id"))
    if first is not None:
        lots.sort(key=lambda lot: lot.pk != first.pk)
    for lot in lots:
        if points == 0:
            break
        taken = min(lot.remaining, points)
        lot.remaining -= taken
        lot.save(update_fields=["remaining"])
        points -= taken
    # The lots always hold the balance; running short means the cache is corrupt.
    assert points == 0, "lots hold less than the balance"


def lots_expire_due(locked: Member, *, at: datetime) -> list[PointsEntry]:
    entries = []
    due = locked.lots.filter(remaining__gt=0, expires_at__lte=at).order_by("earned_at", "id")
    for lot in due:
        expired = lot.remaining
        lot.remaining = 0
        lot.save(update_fields=["remaining"])
        # A lot expires once: its remainder is zero afterwards and is never refilled.
        entries.append(
            entry_write(
                locked,
                kind=EntryKind.EXPIRE,
                amount=-expired,
                reason=_("Points expired"),
                idempotency_key=f"expire:lot:{lot.pk}",
                at=at,
            )
        )
    return entries


def entry_reversed_points(entry: PointsEntry) -> int:
    totals = entry.reversals.aggregate(amount=Sum("amount"), shortfall=Sum("shortfall"))
    return abs(totals["amount"] or 0) + (totals["shortfall"] or 0)
