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

One module per role, every name importable from loyalty.services.ledger:
- `rows`: the steps every movement is made of (lock, check, write an entry, lots);
- `points`: credits, debits, expiry, forfeit and reversals;
- `pending`: points promised for an order, confirmed after the return window;
- `history`: the past of new members written in bulk.
"""

from .history import HistoryWritten, PastEarn, PastMovement, points_history_write
from .pending import pending_add, pending_confirm, pending_refund
from .points import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    points_credit,
    points_debit,
    points_expire,
    points_forfeit,
    points_reverse,
    proportional_points,
)
from .rows import entry_reversed_points, member_lock

__all__ = [
    "CREDIT_KINDS",
    "DEBIT_KINDS",
    "HistoryWritten",
    "PastEarn",
    "PastMovement",
    "entry_reversed_points",
    "member_lock",
    "pending_add",
    "pending_confirm",
    "pending_refund",
    "points_credit",
    "points_debit",
    "points_expire",
    "points_forfeit",
    "points_history_write",
    "points_reverse",
    "proportional_points",
]
