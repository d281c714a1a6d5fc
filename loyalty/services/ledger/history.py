"""Importing the past of new members in bulk (synthetic populations, migrations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
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

from .points import CREDIT_KINDS
from .rows import (
    expiry_default,
    movement_check,
)


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
            movement_check(event.points, event.reason)
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
            movement_check(event.amount, event.reason)
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
                    expires_at=expiry_default(when),
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
