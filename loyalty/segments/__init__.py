"""The segment rules language: what a marketer may ask about members, checked and compiled.

Rules are JSON, a tree of groups (README.md "Segments")::

    {"match": "all" | "any", "conditions": [<condition or group>, ...]}

and a condition is ``{"type": ..., "op": ..., "value": ..., "days": ..., "store": ...}``
with only the keys its type uses (CONDITION_TYPES). `rules_validate` checks a tree
without touching the database and returns it normalised (numbers parsed, lists sorted);
`rules_q` turns a valid tree into one Q object, so that `loyalty.selectors.segment_members`
is a single SQL query: every condition is a column of the member, of its MemberStats row
or of a one-to-one relation, or an EXISTS/scalar subquery — never a loop over members.

What other apps provide, read through the app registry (loyalty never imports shop):

- ``communication.ConsentRecord`` (shop's communication fork): append-only rows with
  ``user``, ``purpose`` ("marketing"), ``channel`` ("email", "sms", "push"), ``action``
  ("granted" / "withdrawn") and ``recorded_at``; the latest record for a (user, purpose,
  channel) is the current choice, as ``marketing_consent_granted`` reads it there.
- ``communication.OutboxMessage`` (``user``, ``language``, ``created_at``): a member's
  language is that of the latest message the shop wrote to them, copied into MemberStats
  by the stats task (the shop keeps no language preference per customer).
- ``stores.Store`` (latitude, longitude) and ``stores.StorePreference`` (the shopper's
  chosen store: the member's home store, ``user.store_preference``).
- ``order.Order`` / ``order.Line`` (Oscar): spend over the last N days and products bought;
  orders in LOYALTY_VOID_ORDER_STATUSES do not count.

Conditions on order history other than those two read MemberStats and MemberCategory,
which the ``refresh_member_stats`` beat task keeps up to date
(loyalty/services/member_stats.py): a member with no orders has no stats row and counts as
0 orders and 0 spent.

Modules: `language` (the condition types), `validation` (rules_validate), `compilation`
(rules_q); every name below is importable from loyalty.segments.
"""

from .compilation import rules_q
from .language import (
    CHANNELS,
    CONDITION_TYPES,
    DISTANCE_OPS,
    EARTH_RADIUS_KM,
    MAX_CONDITIONS,
    MAX_DEPTH,
    NUMERIC_OPS,
    OP_LABELS,
    SET_OPS,
    ConditionType,
    SegmentRulesError,
)
from .validation import rules_validate

__all__ = [
    "CHANNELS",
    "CONDITION_TYPES",
    "DISTANCE_OPS",
    "EARTH_RADIUS_KM",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "NUMERIC_OPS",
    "OP_LABELS",
    "SET_OPS",
    "ConditionType",
    "SegmentRulesError",
    "rules_q",
    "rules_validate",
]
