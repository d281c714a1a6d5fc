"""Pending earns: points promised for an order, spendable once the return window is over."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.models import (
    EntryKind,
    Member,
    PendingEarn,
    PendingStatus,
    PointsEntry,
)
from loyalty.services.errors import (
    IdempotencyConflict,
)

if TYPE_CHECKING:
    from oscar.apps.order.models import Order

from .points import points_reverse, proportional_points
from .rows import (
    entry_write,
    expiry_default,
    lot_add,
    member_lock,
    movement_check,
)


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
    movement_check(points, reason)
    with transaction.atomic():
        locked = member_lock(member)
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
        locked = member_lock(pending.member)
        current = PendingEarn.objects.select_for_update().get(pk=pending.pk)
        if current.status != PendingStatus.PENDING:
            return current.entry
        entry = None
        if current.remaining > 0:
            entry = entry_write(
                locked,
                kind=EntryKind.EARN,
                amount=current.remaining,
                reason=current.reason,
                idempotency_key=f"earn:{current.key}",
                at=at,
                order=current.order,
            )
            lot_add(entry, at=at, expires_at=expiry_default(at))
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
        locked = member_lock(pending.member)
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
