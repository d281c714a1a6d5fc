"""The rules language: the condition types a marketer may use, their operators and what
their values are (loyalty/segments/__init__.py describes the language)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

EARTH_RADIUS_KM = 6371.0088
MAX_DEPTH = 4
MAX_CONDITIONS = 50

NUMERIC_OPS = ("gte", "lte", "eq", "gt", "lt")
SET_OPS = ("in", "not_in")
DISTANCE_OPS = ("lte", "gt")
OP_LABELS = {
    "gte": _("at least"),
    "lte": _("at most"),
    "eq": _("exactly"),
    "gt": _("more than"),
    "lt": _("less than"),
    "in": _("is / has"),
    "not_in": _("is not / has not"),
}
CHANNELS = ("email", "sms", "push")


@dataclass(frozen=True)
class ConditionType:
    code: str
    label: Any
    ops: tuple[str, ...]
    # How `value` is read: int, decimal, score (1-5), tiers, stores, months, languages,
    # channel, category, product.
    value: str
    # Whether "days" is not used, optional (None: ever) or required.
    days: str = "no"
    # Whether "store" (a store id) is required.
    store: bool = False
    help: Any = ""


CONDITION_TYPES: dict[str, ConditionType] = {
    t.code: t
    for t in (
        ConditionType("tier", _("Tier"), SET_OPS, "tiers", help=_("bronze, silver, gold")),
        ConditionType("points_balance", _("Points balance"), NUMERIC_OPS, "int"),
        ConditionType("lifetime_spend", _("Lifetime spend"), NUMERIC_OPS, "decimal"),
        ConditionType(
            "spend_within", _("Spend in the last N days"), NUMERIC_OPS, "decimal", days="required"
        ),
        ConditionType("recency_score", _("Recency score (1-5)"), NUMERIC_OPS, "score"),
        ConditionType("frequency_score", _("Frequency score (1-5)"), NUMERIC_OPS, "score"),
        ConditionType("monetary_score", _("Monetary score (1-5)"), NUMERIC_OPS, "score"),
        ConditionType("days_since_last_order", _("Days since last order"), NUMERIC_OPS, "int"),
        ConditionType("orders_count", _("Number of orders"), NUMERIC_OPS, "int"),
        ConditionType("home_store", _("Home store"), SET_OPS, "stores"),
        ConditionType("last_pickup_store", _("Last pickup store"), SET_OPS, "stores"),
        ConditionType(
            "home_store_distance",
            _("Home store's distance to a store (km)"),
            DISTANCE_OPS,
            "decimal",
            store=True,
        ),
        ConditionType(
            "pickup_store_distance",
            _("Last pickup store's distance to a store (km)"),
            DISTANCE_OPS,
            "decimal",
            store=True,
        ),
        ConditionType(
            "bought_category", _("Bought in a category"), SET_OPS, "category", days="optional"
        ),
        ConditionType("bought_product", _("Bought a product"), SET_OPS, "product", days="optional"),
        ConditionType("birthday_month", _("Birthday month"), SET_OPS, "months", help=_("1 to 12")),
        ConditionType("joined_within", _("Joined in the last N days"), ("lte",), "int"),
        ConditionType(
            "consent", _("Marketing consent"), SET_OPS, "channel", help=_("email, sms or push")
        ),
        ConditionType("language", _("Language"), SET_OPS, "languages"),
    )
}


class SegmentRulesError(ValueError):
    """Rules that cannot be compiled; `errors` holds one message per bad condition."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
