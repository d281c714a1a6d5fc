"""Credits, debits, expiry, forfeit and reversals of points (R18-R21)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.models import (
    EntryKind,
    Member,
    PendingEarn,
    PendingStatus,
    PointsEntry,
    PointsLot,
)
from loyalty.services.errors import (
    InsufficientPoints,
    InvalidAmount,
)

if TYPE_CHECKING:
    from oscar.apps.order.models import Order

from .rows import (
    entry_replayed,
    entry_reversed_points,
    entry_write,
    expiry_default,
    lot_add,
    lots_expire_due,
    lots_take,
    member_lock,
    movement_check,
)

CREDIT_KINDS = {EntryKind.EARN, EntryKind.BONUS, EntryKind.ADJUST, EntryKind.GIFT_RECEIVED}
DEBIT_KINDS = {EntryKind.REDEEM, EntryKind.ADJUST, EntryKind.GIFT_SENT}


class _Unset(enum.Enum):
    """`expires_at` not given (None means the points never expire)."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET


def points_credit(
    *,
    member: Member,
    amount: int,
    reason: str,
    idempotency_key: str,
    kind: str = EntryKind.EARN,
    staff: User | None = None,
    order: Order | None = None,
    at: datetime | None = None,
    expires_at: datetime | None | _Unset = _UNSET,
) -> PointsEntry:
    """Add `amount` points to the member's balance as a new lot.

    `expires_at` defaults to LOYALTY_POINTS_EXPIRY_DAYS after `at` (now by default;
    the demo backdates history). A staff award passes kind=ADJUST and `staff`.
    Raises InvalidAmount, ReasonRequired or IdempotencyConflict, moving nothing.
    """
    movement_check(amount, reason)
    if kind not in CREDIT_KINDS:
        raise ValueError(f"{kind!r} is not a credit")
    at = at or timezone.now()
    with transaction.atomic():
        locked = member_lock(member)
        if (entry := entry_replayed(locked, idempotency_key)) is not None:
            return entry
        entry = entry_write(
            locked,
            kind=kind,
            amount=amount,
            reason=reason,
            idempotency_key=idempotency_key,
            at=at,
            staff=staff,
            order=order,
        )
        lot_add(
            entry,
            at=at,
            expires_at=expiry_default(at) if isinstance(expires_at, _Unset) else expires_at,
        )
    member.balance = locked.balance
    return entry


def points_debit(
    *,
    member: Member,
    amount: int,
    reason: str,
    idempotency_key: str,
    kind: str = EntryKind.REDEEM,
    staff: User | None = None,
    order: Order | None = None,
    at: datetime | None = None,
) -> PointsEntry:
    """Spend `amount` points, oldest lots first.

    Lots already past their expiry are expired first, so they are never spent.
    Raises InsufficientPoints (nothing moved) when the balance is too low.
    """
    movement_check(amount, reason)
    if kind not in DEBIT_KINDS:
        raise ValueError(f"{kind!r} is not a debit")
    at = at or timezone.now()
    with transaction.atomic():
        locked = member_lock(member)
        if (entry := entry_replayed(locked, idempotency_key)) is not None:
            return entry
        lots_expire_due(locked, at=at)
        if locked.balance < amount:
            raise InsufficientPoints(
                _("Not enough points: %(balance)s available, %(amount)s asked.")
                % {"balance": locked.balance, "amount": amount}
            )
        lots_take(locked, amount)
        entry = entry_write(
            locked,
            kind=kind,
            amount=-amount,
            reason=reason,
            idempotency_key=idempotency_key,
            at=at,
            staff=staff,
            order=order,
        )
    member.balance = locked.balance
    return entry


def points_expire(*, member: Member, at: datetime | None = None) -> list[PointsEntry]:
    """Expire what remains of the member's lots whose expiry is at or before `at`.

    Idempotent: a lot's remainder is zero once expired, so running it again writes nothing.
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = member_lock(member)
        entries = lots_expire_due(locked, at=at)
    member.balance = locked.balance
    return entries


def points_forfeit(*, member: Member, at: datetime | None = None) -> PointsEntry | None:
    """The member erased their account: their open pending earns are cancelled and what is
    left of their balance goes in one FORFEIT entry (README "Erasure").

    Idempotent: a second call finds nothing left and returns None, as does a member with
    no points. The entries stay for the books; the balance, the lots and `pending` end at 0.
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = member_lock(member)
        for pending in PendingEarn.objects.select_for_update().filter(
            member=locked, status=PendingStatus.PENDING
        ):
            locked.pending -= pending.remaining
            pending.remaining = 0
            pending.status = PendingStatus.CANCELLED
            pending.save(update_fields=["remaining", "status"])
        locked.save(update_fields=["pending"])
        entry = None
        if locked.balance > 0:
            forfeited = locked.balance
            lots_take(locked, forfeited)
            entry = entry_write(
                locked,
                kind=EntryKind.FORFEIT,
                amount=-forfeited,
                reason=_("Points forfeited: account erased"),
                idempotency_key=f"forfeit:{locked.pk}:{locked.entries.count()}",
                at=at,
            )
    member.balance, member.pending = locked.balance, locked.pending
    return entry


def points_reverse(
    *,
    entry: PointsEntry,
    amount: int,
    reason: str,
    idempotency_key: str,
    at: datetime | None = None,
) -> PointsEntry | None:
    """Take back `amount` points of a credit, or give back `amount` points of a debit.

    Reversing a credit takes from that credit's own lot first, then oldest first.
    Points of a credit the member has already spent cannot be taken back below zero:
    what is missing is recorded as the reversal's `shortfall` (and counts as reversed).
    Raises InvalidAmount if more than what is left to reverse is asked; returns None
    when nothing at all could be taken back (balance zero).
    """
    movement_check(amount, reason)
    at = at or timezone.now()
    with transaction.atomic():
        locked = member_lock(entry.member)
        if (existing := entry_replayed(locked, idempotency_key)) is not None:
            return existing
        if entry.kind in (EntryKind.EXPIRE, EntryKind.REVERSAL):
            raise InvalidAmount(_("Expiries and reversals cannot be reversed."))
        left = abs(entry.amount) - entry_reversed_points(entry)
        if amount > left:
            raise InvalidAmount(
                _("Only %(left)s points of this movement are left to reverse.") % {"left": left}
            )
        if entry.amount > 0:
            lots_expire_due(locked, at=at)
            taken = min(amount, locked.balance)
            own_lot = PointsLot.objects.filter(entry=entry).first()
            lots_take(locked, taken, first=own_lot)
            if taken == 0:
                reversal = None
            else:
                reversal = entry_write(
                    locked,
                    kind=EntryKind.REVERSAL,
                    amount=-taken,
                    reason=reason,
                    idempotency_key=idempotency_key,
                    at=at,
                    order=entry.order,
                    reverses=entry,
                    shortfall=amount - taken,
                )
        else:
            reversal = entry_write(
                locked,
                kind=EntryKind.REVERSAL,
                amount=amount,
                reason=reason,
                idempotency_key=idempotency_key,
                at=at,
                order=entry.order,
                reverses=entry,
            )
            # Points given back start a new lot with the standard validity.
            lot_add(reversal, at=at, expires_at=expiry_default(at))
    entry.member.balance = locked.balance
    return reversal


def proportional_points(*, points: int, base: Decimal, refunded: Decimal) -> int:
    """Points to take back once `refunded` (cumulative) of `base` has been refunded.

    floor(points x refunded / base), capped at `points`: see the module docstring.
    """
    if refunded <= 0 or points <= 0:
        return 0
    if base <= 0 or refunded >= base:
        return points
    return int((Decimal(points) * refunded / base).to_integral_value(rounding=ROUND_FLOOR))
