"""The points ledger: the only code that moves points (R18-R22).

Every function here is one transaction that first locks the member's row
(SELECT ... FOR UPDATE), so concurrent movements of one member's points run one
after the other and the balance check cannot be raced. Each movement carries an
idempotency key (UNIQUE in the database): replaying a call returns the entry the
first call wrote and moves nothing.

Invariants kept here and checked by the tests:
- Member.balance == sum of the member's entries == sum of the remainders of their lots;
- Member.balance >= 0 (also a CHECK constraint, the last line of defence);
- Member.pending == sum of the remainders of their open pending earns;
- lots are spent oldest first, and expiry removes only what is left of a lot.

Rounding rule for refunds (R21): the points taken back for refunds are
floor(points x refunded / base), computed on the *cumulative* refunded amount.
Rounding down favours the member, a full refund takes back exactly every point,
and several partial refunds never take back more than one refund of the same total.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.bulk_rows import ids_reserve, row, rows_insert, rows_update
from loyalty.models import (
    EntryKind,
    Member,
    PendingEarn,
    PendingStatus,
    PointsEntry,
    PointsLot,
)
from loyalty.services.errors import (
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    ReasonRequired,
)

if TYPE_CHECKING:
    from oscar.apps.order.models import Order

CREDIT_KINDS = {EntryKind.EARN, EntryKind.BONUS, EntryKind.ADJUST, EntryKind.GIFT_RECEIVED}
DEBIT_KINDS = {EntryKind.REDEEM, EntryKind.ADJUST, EntryKind.GIFT_SENT}


class _Unset(enum.Enum):
    """`expires_at` not given (None means the points never expire)."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET


def _lock_member(member: Member) -> Member:
    """Lock and re-read the member row; callers must be inside transaction.atomic()."""
    return Member.objects.select_for_update().get(pk=member.pk)


def _validate(amount: object, reason: str) -> None:
    # bool is an int in Python; True points is a bug in the caller, not one point.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount(_("Enter a whole number of points greater than zero."))
    if not reason or not reason.strip():
        raise ReasonRequired(_("Give a reason for this movement of points."))


def _replayed(member: Member, idempotency_key: str) -> PointsEntry | None:
    entry = PointsEntry.objects.filter(idempotency_key=idempotency_key).first()
    if entry is not None and entry.member_id != member.pk:
        raise IdempotencyConflict(
            _("This operation was already recorded for another member (%(key)s).")
            % {"key": idempotency_key}
        )
    return entry


def _default_expiry(at: datetime) -> datetime | None:
    days = settings.LOYALTY_POINTS_EXPIRY_DAYS
    return at + timedelta(days=days) if days else None


def _write(
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


def _add_lot(entry: PointsEntry, *, at: datetime, expires_at: datetime | None) -> PointsLot:
    return PointsLot.objects.create(
        member_id=entry.member_id,
        entry=entry,
        earned_at=at,
        expires_at=expires_at,
        amount=entry.amount,
        remaining=entry.amount,
    )


def _take_from_lots(locked: Member, points: int, *, first: PointsLot | None = None) -> None:
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


def _expire_due(locked: Member, *, at: datetime) -> list[PointsEntry]:
    entries = []
    due = locked.lots.filter(remaining__gt=0, expires_at__lte=at).order_by("earned_at", "id")
    for lot in due:
        expired = lot.remaining
        lot.remaining = 0
        lot.save(update_fields=["remaining"])
        # A lot expires once: its remainder is zero afterwards and is never refilled.
        entries.append(
            _write(
                locked,
                kind=EntryKind.EXPIRE,
                amount=-expired,
                reason=_("Points expired"),
                idempotency_key=f"expire:lot:{lot.pk}",
                at=at,
            )
        )
    return entries


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
    _validate(amount, reason)
    if kind not in CREDIT_KINDS:
        raise ValueError(f"{kind!r} is not a credit")
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock_member(member)
        if (entry := _replayed(locked, idempotency_key)) is not None:
            return entry
        entry = _write(
            locked,
            kind=kind,
            amount=amount,
            reason=reason,
            idempotency_key=idempotency_key,
            at=at,
            staff=staff,
            order=order,
        )
        _add_lot(
            entry,
            at=at,
            expires_at=_default_expiry(at) if isinstance(expires_at, _Unset) else expires_at,
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
    _validate(amount, reason)
    if kind not in DEBIT_KINDS:
        raise ValueError(f"{kind!r} is not a debit")
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock_member(member)
        if (entry := _replayed(locked, idempotency_key)) is not None:
            return entry
        _expire_due(locked, at=at)
        if locked.balance < amount:
            raise InsufficientPoints(
                _("Not enough points: %(balance)s available, %(amount)s asked.")
                % {"balance": locked.balance, "amount": amount}
            )
        _take_from_lots(locked, amount)
        entry = _write(
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
        locked = _lock_member(member)
        entries = _expire_due(locked, at=at)
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
        locked = _lock_member(member)
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
            _take_from_lots(locked, forfeited)
            entry = _write(
                locked,
                kind=EntryKind.FORFEIT,
                amount=-forfeited,
                reason=_("Points forfeited: account erased"),
                idempotency_key=f"forfeit:{locked.pk}:{locked.entries.count()}",
                at=at,
            )
    member.balance, member.pending = locked.balance, locked.pending
    return entry


def _already_reversed(entry: PointsEntry) -> int:
    totals = entry.reversals.aggregate(amount=Sum("amount"), shortfall=Sum("shortfall"))
    return abs(totals["amount"] or 0) + (totals["shortfall"] or 0)


def points_reverse(
    *,
    entry: PointsEntry,
    amount: int,
    reason: str,
    idempotency_key: str,
    at: datetime | None = None,
    expires_at: datetime | None | _Unset = _UNSET,
) -> PointsEntry | None:
    """Take back `amount` points of a credit, or give back `amount` points of a debit.

    Points given back start a new lot expiring at `expires_at` (default: the standard
    validity from `at`); a gift link's points keep the expiry they had (R22).
    Reversing a credit takes from that credit's own lot first, then oldest first.
    Points of a credit the member has already spent cannot be taken back below zero:
    what is missing is recorded as the reversal's `shortfall` (and counts as reversed).
    Raises InvalidAmount if more than what is left to reverse is asked; returns None
    when nothing at all could be taken back (balance zero).
    """
    _validate(amount, reason)
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock_member(entry.member)
        if (existing := _replayed(locked, idempotency_key)) is not None:
            return existing
        if entry.kind in (EntryKind.EXPIRE, EntryKind.REVERSAL):
            raise InvalidAmount(_("Expiries and reversals cannot be reversed."))
        left = abs(entry.amount) - _already_reversed(entry)
        if amount > left:
            raise InvalidAmount(
                _("Only %(left)s points of this movement are left to reverse.") % {"left": left}
            )
        if entry.amount > 0:
            _expire_due(locked, at=at)
            taken = min(amount, locked.balance)
            own_lot = PointsLot.objects.filter(entry=entry).first()
            _take_from_lots(locked, taken, first=own_lot)
            if taken == 0:
                reversal = None
            else:
                reversal = _write(
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
            reversal = _write(
                locked,
                kind=EntryKind.REVERSAL,
                amount=amount,
                reason=reason,
                idempotency_key=idempotency_key,
                at=at,
                order=entry.order,
                reverses=entry,
            )
            _add_lot(
                reversal,
                at=at,
                expires_at=_default_expiry(at) if isinstance(expires_at, _Unset) else expires_at,
            )
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


# --- Pending earns: promised for an order, spendable once the return window is over ------


def pending_add(
    *,
    member: Member,
    points: int,
    key: str,
    reason: str,
    base_amount: Decimal,
    confirm_after: datetime,
    order: Order | None = None,
) -> PendingEarn:
    """Promise `points` to the member, confirmed by pending_confirm after `confirm_after`."""
    _validate(points, reason)
    with transaction.atomic():
        locked = _lock_member(member)
        existing = PendingEarn.objects.filter(key=key).first()
        if existing is not None:
            if existing.member_id != locked.pk:
                raise IdempotencyConflict(_("These points were promised to another member."))
            return existing
        pending = PendingEarn.objects.create(
            member=locked,
            order=order,
            key=key,
            reason=reason.strip(),
            points=points,
            remaining=points,
            base_amount=base_amount,
            confirm_after=confirm_after,
        )
        locked.pending += points
        locked.save(update_fields=["pending"])
    member.pending = locked.pending
    return pending


def pending_confirm(*, pending: PendingEarn, at: datetime | None = None) -> PointsEntry | None:
    """Turn the pending earn into points in the ledger; idempotent.

    Returns the earn entry (the same one on replay), or None when refunds left nothing.
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock_member(pending.member)
        current = PendingEarn.objects.select_for_update().get(pk=pending.pk)
        if current.status != PendingStatus.PENDING:
            return current.entry
        entry = None
        if current.remaining > 0:
            entry = _write(
                locked,
                kind=EntryKind.EARN,
                amount=current.remaining,
                reason=current.reason,
                idempotency_key=f"earn:{current.key}",
                at=at,
                order=current.order,
            )
            _add_lot(entry, at=at, expires_at=_default_expiry(at))
        locked.pending -= current.remaining
        locked.save(update_fields=["pending"])
        current.status = PendingStatus.CONFIRMED if entry else PendingStatus.CANCELLED
        current.entry = entry
        current.save(update_fields=["status", "entry"])
    pending.member.balance, pending.member.pending = locked.balance, locked.pending
    return entry


def pending_refund(
    *, pending: PendingEarn, refunded_total: Decimal, at: datetime | None = None
) -> int:
    """Apply a refund of `refunded_total` (cumulative, in money) to the points of an order.

    Before confirmation it lowers the pending points; after, it reverses the earned
    points in the ledger. Idempotent because the total is cumulative: replaying the
    same total changes nothing. Returns the points taken back by this call.
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock_member(pending.member)
        current = PendingEarn.objects.select_for_update().get(pk=pending.pk)
        if refunded_total <= current.refunded_amount:
            return 0
        target = proportional_points(
            points=current.points, base=current.base_amount, refunded=refunded_total
        )
        # What earlier refunds took back by the rule (not by what the balance allowed),
        # so points a member had already spent are not claimed twice.
        before = proportional_points(
            points=current.points, base=current.base_amount, refunded=current.refunded_amount
        )
        delta = max(target - before, 0)
        if current.status == PendingStatus.PENDING:
            delta = min(delta, current.remaining)
        current.refunded_amount = refunded_total
        if current.status == PendingStatus.PENDING:
            current.remaining -= delta
            locked.pending -= delta
            locked.save(update_fields=["pending"])
            if current.remaining == 0:
                current.status = PendingStatus.CANCELLED
            current.save(update_fields=["remaining", "refunded_amount", "status"])
        else:
            current.save(update_fields=["refunded_amount"])
            if current.status == PendingStatus.CONFIRMED and delta > 0:
                assert current.entry is not None, "a confirmed earn has its entry"
                # Same transaction as refunded_amount, so a crash cannot record the
                # refund without its reversal; keyed by the cumulative target.
                points_reverse(
                    entry=current.entry,
                    amount=delta,
                    reason=_("Refund of %(what)s") % {"what": current.reason},
                    idempotency_key=f"reverse:{current.key}:{target}",
                    at=at,
                )
                locked.refresh_from_db(fields=["balance"])
    pending.member.balance, pending.member.pending = locked.balance, locked.pending
    return delta


# --- Importing the past of new members in bulk (synthetic populations, migrations) -------


@dataclass(frozen=True)
class PastEarn:
    """Points promised for a past order, as `order_points_award` would have promised them.

    Confirmed into the ledger at `confirm_after` (entry key `earn:<key>`) when that is
    before the import's `at`; still pending otherwise.
    """

    order_id: int
    key: str
    reason: str
    points: int
    base_amount: Decimal
    placed_at: datetime
    confirm_after: datetime


@dataclass(frozen=True)
class PastMovement:
    """A past credit (EARN, BONUS or ADJUST) or redemption (REDEEM) of `amount` > 0 points."""

    at: datetime
    kind: str
    amount: int
    reason: str
    idempotency_key: str


@dataclass
class HistoryWritten:
    entries: int = 0
    lots: int = 0
    pending_earns: int = 0
    # Redemptions left out because the member did not have the points at that time.
    redemptions_skipped: int = 0


@dataclass
class _Lot:
    lot: PointsLot
    entry: PointsEntry
    expire_entry: PointsEntry | None = None


def _history_replay(
    member: Member, events: Sequence[PastEarn | PastMovement], at: datetime
) -> tuple[list[PointsEntry], list[_Lot], list[PendingEarn], int]:
    """What the single-movement functions would have written for `events`, in memory.

    Lots expire at their `expires_at` (as if the daily expiry job ran then), before any
    later movement; redemptions take the oldest lots first.
    """
    timeline: list[tuple[datetime, int, PastEarn | PastMovement]] = []
    pendings: list[PendingEarn] = []
    for index, event in enumerate(events):
        if isinstance(event, PastEarn):
            _validate(event.points, event.reason)
            pending = row(
                PendingEarn,
                member_id=member.pk,
                order_id=event.order_id,
                key=event.key,
                reason=event.reason.strip(),
                points=event.points,
                remaining=event.points,
                base_amount=event.base_amount,
                confirm_after=event.confirm_after,
                created_at=event.placed_at,
            )
            pendings.append(pending)
            if event.confirm_after <= at:
                timeline.append((event.confirm_after, index, event))
        else:
            _validate(event.amount, event.reason)
            if event.kind not in CREDIT_KINDS | {EntryKind.REDEEM}:
                raise ValueError(f"{event.kind!r} cannot be imported")
            timeline.append((event.at, index, event))
    timeline.sort(key=lambda item: (item[0], item[1]))
    pending_by_key = {pending.key: pending for pending in pendings}
    entries: list[PointsEntry] = []
    lots: list[_Lot] = []
    balance = 0
    skipped = 0

    def write(kind: str, amount: int, reason: str, key: str, when: datetime, order_id=None):
        nonlocal balance
        balance += amount
        entry = row(
            PointsEntry,
            member_id=member.pk,
            kind=kind,
            amount=amount,
            balance_after=balance,
            reason=reason.strip(),
            idempotency_key=key,
            order_id=order_id,
            created_at=when,
        )
        entries.append(entry)
        return entry

    def expire_until(when: datetime) -> None:
        due = [
            (held.lot.expires_at, held)
            for held in lots
            if held.lot.remaining and held.lot.expires_at and held.lot.expires_at <= when
        ]
        for expires_at, held in sorted(due, key=lambda item: item[0]):
            expired, held.lot.remaining = held.lot.remaining, 0
            # The key names the lot, whose id is only known once reserved.
            held.expire_entry = write(
                EntryKind.EXPIRE, -expired, _("Points expired"), "", expires_at
            )

    def credit(entry: PointsEntry, when: datetime) -> None:
        lots.append(
            _Lot(
                row(
                    PointsLot,
                    member_id=member.pk,
                    earned_at=when,
                    expires_at=_default_expiry(when),
                    amount=entry.amount,
                    remaining=entry.amount,
                ),
                entry,
            )
        )

    for when, _index, event in timeline:
        expire_until(when)
        if isinstance(event, PastEarn):
            pending = pending_by_key[event.key]
            key = f"earn:{event.key}"
            entry = write(EntryKind.EARN, event.points, event.reason, key, when, event.order_id)
            credit(entry, when)
            pending.status, pending.entry = PendingStatus.CONFIRMED, entry
        elif event.kind == EntryKind.REDEEM:
            if balance < event.amount:
                skipped += 1
                continue
            left = event.amount
            for held in lots:
                taken = min(held.lot.remaining, left)
                held.lot.remaining -= taken
                left -= taken
            write(EntryKind.REDEEM, -event.amount, event.reason, event.idempotency_key, when)
        else:
            credit(write(event.kind, event.amount, event.reason, event.idempotency_key, when), when)
    expire_until(at)
    return entries, lots, pendings, skipped


def points_history_write(
    *, history: Mapping[int, Sequence[PastEarn | PastMovement]], at: datetime
) -> HistoryWritten:
    """Write the past of members who have no ledger yet, in bulk, in one transaction.

    `history` maps member ids to their past order earns and movements. The rows are the
    ones the single-movement functions (pending_add, pending_confirm, points_credit,
    points_debit, points_expire) would have written one call at a time, with the same
    idempotency keys, so every invariant of this module holds afterwards and replaying a
    real call later moves nothing twice. Members are locked in id order; raises
    ValueError (nothing written) if one already has entries, pending earns or points.
    """

    result = HistoryWritten()
    with transaction.atomic():
        members = list(
            Member.objects.select_for_update().filter(pk__in=list(history)).order_by("pk")
        )
        if len(members) != len(history):
            raise ValueError("unknown member in the history to import")
        if (
            any(member.balance or member.pending for member in members)
            or PointsEntry.objects.filter(member__in=members).exists()
            or PendingEarn.objects.filter(member__in=members).exists()
        ):
            raise ValueError("a member of the history to import already has a ledger")
        entries: list[PointsEntry] = []
        lots: list[_Lot] = []
        pendings: list[PendingEarn] = []
        for member in members:
            m_entries, m_lots, m_pendings, skipped = _history_replay(member, history[member.pk], at)
            entries += m_entries
            lots += m_lots
            pendings += m_pendings
            result.redemptions_skipped += skipped
            member.balance = m_entries[-1].balance_after if m_entries else 0
            member.pending = sum(p.remaining for p in m_pendings if p.entry is None)
        for held, lot_id in zip(lots, ids_reserve(PointsLot, len(lots)), strict=True):
            held.lot.pk = lot_id
            if held.expire_entry is not None:
                held.expire_entry.idempotency_key = f"expire:lot:{lot_id}"
        rows_insert(PointsEntry, entries)
        for held in lots:
            held.lot.entry_id = held.entry.pk
        for pending in pendings:
            pending.entry_id = pending.entry.pk if pending.entry else None
        rows_insert(PointsLot, [held.lot for held in lots])
        rows_insert(PendingEarn, pendings)
        rows_update(Member, members, ["balance", "pending"])
    result.entries, result.lots, result.pending_earns = len(entries), len(lots), len(pendings)
    return result
