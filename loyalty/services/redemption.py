"""Redeeming points at checkout: part of an order paid with points (README "Payments", R18 and R21).

The rules are on the earning rule, edited by marketers in the dashboard (their first
values come from the LOYALTY_POINT_VALUE, LOYALTY_REDEEM_MIN_POINTS and
LOYALTY_REDEEM_MAX_SHARE settings), read through selectors.redemption_rule, once per
request:
- point_value: money one point is worth (0.01: 100 points = 1.00);
- redeem_min_points: the fewest points one order may use;
- redeem_max_share: the largest share of the order total (incl. tax and shipping)
  points may pay; the points allowed are rounded down, so points never pay more.

The orders package (shop/orders/sources.py, for order_place) calls `order_points_redeem`
before the order exists, with its order number. The
debit is keyed on the order number: `redeem:order:<number>`, or `...:<n>` for the n-th
attempt after an earlier attempt for the same number (same basket) failed and was given
back. While one debit for a number is live (not given back), another is refused, so
concurrent submissions of one basket spend the points once.

`order_redemption_reverse` gives the points of an order number back exactly once
(each debit's reversal is keyed on the debit's own key): when placing the order failed
after the debit, and when the order is cancelled. `order_redemption_refund` gives them
back in proportion to the money refunded, with the rounding rule of earned points.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from loyalty.models import EntryKind, Member, PendingEarn, PendingStatus, PointsEntry
from loyalty.selectors import redemption_rule
from loyalty.services.errors import LoyaltyError
from loyalty.services.ledger import (
    entry_reversed_points,
    member_lock,
    points_debit,
    points_reverse,
    proportional_points,
)

CENT = Decimal("0.01")


class RedemptionRefused(LoyaltyError):
    """Points cannot pay for this order as asked; nothing was moved."""


def points_value(points: int) -> Decimal:
    """The money `points` pay for, rounded down to the cent."""
    value = Decimal(points) * redemption_rule().point_value
    return value.quantize(CENT, rounding=ROUND_FLOOR)


def redeem_max_points(*, balance: int, order_total: Decimal) -> int:
    """The most points an order of `order_total` may use with this balance."""
    rule = redemption_rule()
    share = Decimal(order_total) * rule.max_share
    cap = int((share / rule.point_value).to_integral_value(rounding=ROUND_FLOOR))
    return max(min(balance, cap), 0)


def redeem_check(*, balance: int, points: object, order_total: Decimal) -> int:
    """`points` as a valid number of points to use, or RedemptionRefused with the reason."""
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise RedemptionRefused(_("Enter a whole number of points greater than zero."))
    rule = redemption_rule()
    if points < rule.min_points:
        raise RedemptionRefused(
            _("Use at least %(minimum)s points, or none.") % {"minimum": rule.min_points}
        )
    if points > balance:
        raise RedemptionRefused(
            _("You have %(balance)s points; you cannot use %(points)s.")
            % {"balance": balance, "points": points}
        )
    allowed = redeem_max_points(balance=balance, order_total=order_total)
    if points > allowed:
        raise RedemptionRefused(
            _("Points can pay up to %(share)s%% of this order: %(allowed)s points at most.")
            # Fixed-point: normalize() alone writes 50 as 5E+1.
            % {"share": f"{(rule.max_share * 100).normalize():f}", "allowed": allowed}
        )
    return points


def _order_debits(order_number: str):
    base = f"redeem:order:{order_number}"
    return PointsEntry.objects.filter(
        Q(idempotency_key=base) | Q(idempotency_key__startswith=f"{base}:"),
        kind=EntryKind.REDEEM,
    ).order_by("pk")


def order_points_redeem(
    *, member: Member, order_number: str, points: int, order_total: Decimal
) -> PointsEntry:
    """Spend `points` on the order `order_number`; RedemptionRefused moves nothing.

    One transaction holding the member's row lock, so the checks and the debit cannot
    be raced by another checkout of the same member.
    """
    with transaction.atomic():
        locked = member_lock(member)
        debits = list(_order_debits(order_number))
        if any(entry_reversed_points(debit) < abs(debit.amount) for debit in debits):
            raise RedemptionRefused(
                _("Points are already being used for this order; please wait a moment.")
            )
        redeem_check(balance=locked.balance, points=points, order_total=order_total)
        key = f"redeem:order:{order_number}" + (f":{len(debits)}" if debits else "")
        entry = points_debit(
            member=locked,
            amount=points,
            reason=_("Used on order %(number)s") % {"number": order_number},
            idempotency_key=key,
        )
    member.balance = locked.balance
    return entry


def redemption_give_back(*, debit: PointsEntry, reason: str) -> PointsEntry | None:
    """Give back what is left of one checkout debit, once (keyed on the debit's key)."""
    left = abs(debit.amount) - entry_reversed_points(debit)
    if left <= 0:
        return None
    return points_reverse(
        entry=debit, amount=left, reason=reason, idempotency_key=f"{debit.idempotency_key}:back"
    )


def order_redemption_reverse(*, order_number: str, reason: str) -> list[PointsEntry]:
    """Give back what is left of every debit for `order_number`; idempotent."""
    given = []
    for debit in _order_debits(order_number).select_related("member"):
        if (reversal := redemption_give_back(debit=debit, reason=reason)) is not None:
            given.append(reversal)
    return given


def order_points_settled(*, order) -> bool:
    """Nothing left to take or give back for a cancelled order: its pending points are
    cancelled (or it had none) and every point spent on it came back. A read, no lock."""
    if PendingEarn.objects.filter(order=order).exclude(status=PendingStatus.CANCELLED).exists():
        return False
    return all(
        entry_reversed_points(debit) >= abs(debit.amount) for debit in _order_debits(order.number)
    )


def order_redemption_refund(
    *, order_number: str, refunded_total: Decimal, paid_total: Decimal
) -> int:
    """Give back the points spent on `order_number` in proportion to the money refunded.

    `refunded_total` is the money refunded so far (cumulative) out of `paid_total`, the
    money the order was paid with besides points. Each debit gives back
    floor(points x refunded_total / paid_total) in all -- the rounding rule of earned
    points (ledger.proportional_points): a full refund gives back every point, partial
    refunds never more than one refund of their sum. Each give-back is keyed on the
    debit and that cumulative target (`<debit key>:refund:<target>`), and counts what
    was given back before, so a replayed refund (a retried webhook) gives nothing twice.
    Returns the points given back by this call.
    """
    given = 0
    for debit in _order_debits(order_number).select_related("member"):
        target = proportional_points(
            points=abs(debit.amount), base=paid_total, refunded=refunded_total
        )
        with transaction.atomic():
            member_lock(debit.member)
            delta = target - entry_reversed_points(debit)
            if delta <= 0:
                continue
            points_reverse(
                entry=debit,
                amount=delta,
                reason=_("Refund on order %(number)s") % {"number": order_number},
                idempotency_key=f"{debit.idempotency_key}:refund:{target}",
            )
        given += delta
    return given


def order_redeemed_points(*, order_number: str) -> int:
    """Points an order number still holds (debited and not given back)."""
    return sum(abs(d.amount) - entry_reversed_points(d) for d in _order_debits(order_number))


def order_points_paid_value(*, order_number: str) -> Decimal:
    """The money the points still held by `order_number` paid, at today's point value.

    Read from the ledger, not from the order's payment source: Oscar sends order_placed
    before the checkout saves the sources, and the debit exists before the order.
    """
    return points_value(order_redeemed_points(order_number=order_number))
