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
which the ``refresh_member_stats`` beat task keeps up to date (loyalty/services/segments.py):
a member with no orders has no stats row and counts as 0 orders and 0 spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import (
    Exists,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
)
from django.utils.translation import gettext_lazy as _

from loyalty.models import MemberCategory, Tier

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


# --- Validation ----------------------------------------------------------------------------


def _as_list(raw: Any) -> list:
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, (list, tuple)):
        return list(raw)
    if raw is None:
        return []
    return [raw]


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    raise ValueError


def _value(kind: str, raw: Any) -> Any:
    """The value parsed for `kind`, or ValueError with the message to show."""
    if kind == "int":
        try:
            number = _int(raw)
        except ValueError:
            raise ValueError(_("enter a whole number of 0 or more.")) from None
        if number < 0:
            raise ValueError(_("enter a whole number of 0 or more."))
        return number
    if kind == "decimal":
        try:
            amount = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            raise ValueError(_("enter an amount of 0 or more, such as 25.50.")) from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(_("enter an amount of 0 or more, such as 25.50."))
        return str(amount)
    if kind == "score":
        try:
            score = _int(raw)
        except ValueError:
            score = 0
        if not 1 <= score <= 5:
            raise ValueError(_("enter a score from 1 to 5."))
        return score
    if kind in ("category", "product"):
        try:
            pk = _int(raw)
        except ValueError:
            pk = 0
        if pk <= 0:
            raise ValueError(
                _("choose a category.") if kind == "category" else _("enter a product id.")
            )
        return pk
    if kind == "channel":
        if raw not in CHANNELS:
            raise ValueError(_("choose a channel: email, sms or push."))
        return raw
    items = _as_list(raw)
    if not items:
        raise ValueError(_("enter at least one value."))
    if kind == "tiers":
        bad = [str(item) for item in items if item not in Tier.values]
        if bad:
            raise ValueError(_("unknown tier %(tiers)s (bronze, silver, gold).") % {"tiers": bad})
        return sorted(set(items))
    if kind == "languages":
        known = [code for code, _name in settings.LANGUAGES]
        bad = [str(item) for item in items if item not in known]
        if bad:
            raise ValueError(
                _("unknown language %(bad)s (%(known)s).")
                % {"bad": ", ".join(bad), "known": ", ".join(known)}
            )
        return sorted(set(items))
    try:
        numbers = sorted({_int(item) for item in items})
    except ValueError:
        numbers = []
    if kind == "months":
        if not numbers or not all(1 <= month <= 12 for month in numbers):
            raise ValueError(_("enter months as numbers from 1 to 12."))
        return numbers
    if kind == "stores":
        if not numbers or not all(pk > 0 for pk in numbers):
            raise ValueError(_("choose a store."))
        return numbers
    raise ValueError(_("unknown value kind."))


def _condition_validate(raw: Any, where: str, errors: list[str]) -> dict | None:
    if not isinstance(raw, dict):
        errors.append(_("Condition %(where)s: not a condition.") % {"where": where})
        return None
    code = raw.get("type")
    kind = CONDITION_TYPES.get(code) if isinstance(code, str) else None
    if kind is None:
        errors.append(
            _("Condition %(where)s: unknown type %(type)r.")
            % {"where": where, "type": raw.get("type")}
        )
        return None
    prefix = _("Condition %(where)s (%(label)s)") % {"where": where, "label": kind.label}
    clean: dict[str, Any] = {"type": kind.code}
    op = raw.get("op") or kind.ops[0]
    if op not in kind.ops:
        errors.append(
            _("%(prefix)s: choose one of %(ops)s.")
            % {"prefix": prefix, "ops": ", ".join(str(OP_LABELS[o]) for o in kind.ops)}
        )
    clean["op"] = op
    try:
        clean["value"] = _value(kind.value, raw.get("value"))
    except ValueError as exc:
        errors.append(f"{prefix}: {exc.args[0]}")
    days = raw.get("days")
    if kind.days != "no" and days not in (None, ""):
        try:
            clean["days"] = _int(days)
            if clean["days"] < 1:
                raise ValueError
        except ValueError:
            errors.append(
                _("%(prefix)s: enter a number of days of 1 or more.") % {"prefix": prefix}
            )
    elif kind.days == "required":
        errors.append(_("%(prefix)s: enter a number of days.") % {"prefix": prefix})
    if kind.store:
        try:
            clean["store"] = _int(raw.get("store"))
            if clean["store"] < 1:
                raise ValueError
        except ValueError:
            errors.append(_("%(prefix)s: choose the store to measure from.") % {"prefix": prefix})
    return clean


def _group_validate(raw: Any, where: str, depth: int, errors: list[str]) -> dict:
    label = where or _("the segment")
    if not isinstance(raw, dict) or not isinstance(raw.get("conditions", []), list):
        errors.append(_("Group %(where)s: not a group of conditions.") % {"where": label})
        return {"match": "all", "conditions": []}
    match = raw.get("match", "all")
    if match not in ("all", "any"):
        errors.append(_("Group %(where)s: match must be all or any.") % {"where": label})
    if depth > MAX_DEPTH:
        errors.append(
            _("Group %(where)s: groups nest at most %(max)s deep.")
            % {"where": label, "max": MAX_DEPTH}
        )
        return {"match": match, "conditions": []}
    conditions = raw.get("conditions", [])
    if not conditions and depth > 0:
        errors.append(_("Group %(where)s: add at least one condition.") % {"where": label})
    clean = []
    for index, child in enumerate(conditions, start=1):
        child_where = f"{where}.{index}" if where else str(index)
        if isinstance(child, dict) and "conditions" in child:
            clean.append(_group_validate(child, child_where, depth + 1, errors))
        else:
            condition = _condition_validate(child, child_where, errors)
            if condition is not None:
                clean.append(condition)
    return {"match": match, "conditions": clean}


def _count_conditions(group: dict) -> int:
    return sum(
        _count_conditions(child) if "conditions" in child else 1 for child in group["conditions"]
    )


def rules_validate(rules: Any) -> dict:
    """The rules normalised, or SegmentRulesError listing every bad condition by position
    ("2.1": the first condition of the second entry). Reads no database row."""
    errors: list[str] = []
    clean = _group_validate(rules if rules is not None else {}, "", 0, errors)
    if not errors and _count_conditions(clean) > MAX_CONDITIONS:
        errors.append(_("Use at most %(max)s conditions.") % {"max": MAX_CONDITIONS})
    if errors:
        raise SegmentRulesError(errors)
    return clean


# --- Compilation ---------------------------------------------------------------------------

_LOOKUPS = {
    "gte": GreaterThanOrEqual,
    "lte": LessThanOrEqual,
    "eq": Exact,
    "gt": GreaterThan,
    "lt": LessThan,
}


def _compare(field: str, op: str, value: Any) -> Q:
    return Q(**{field if op == "eq" else f"{field}__{op}": value})


def _zero_matches(op: str, value: Any) -> bool:
    value = Decimal(value)
    return {
        "gte": value <= 0,
        "lte": value >= 0,
        "eq": value == 0,
        "gt": value < 0,
        "lt": value > 0,
    }[op]


def _stats_total(field: str, op: str, value: Any) -> Q:
    """A MemberStats total: a member without a stats row has none (0)."""
    q = _compare(f"stats__{field}", op, value)
    return q | Q(stats__isnull=True) if _zero_matches(op, value) else q


def _days_since(field: str, op: str, days: int, at: datetime) -> Q:
    """`days` whole days since the instant in `field` compared by `op` (NULL never matches)."""
    low, high = {
        "gte": (days, None),
        "gt": (days + 1, None),
        "lte": (None, days + 1),
        "lt": (None, days),
        "eq": (days, days + 1),
    }[op]
    q = Q(**{f"{field}__isnull": False})
    if low is not None:
        q &= Q(**{f"{field}__lte": at - timedelta(days=low)})
    if high is not None:
        q &= Q(**{f"{field}__gt": at - timedelta(days=high)})
    return q


def _orders_counted():
    order_model = apps.get_model("order", "Order")
    return order_model.objects.exclude(status__in=settings.LOYALTY_VOID_ORDER_STATUSES)


def _distance_km(lat1, lng1, lat2, lng2):
    half_dlat = (Radians(lat2) - Radians(lat1)) / 2
    half_dlng = (Radians(lng2) - Radians(lng1)) / 2
    a = Power(Sin(half_dlat), 2) + Cos(Radians(lat1)) * Cos(Radians(lat2)) * Power(
        Sin(half_dlng), 2
    )
    return Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(Least(a, Value(1.0))))


def _stores_by_distance(store_id: int, op: str, km: Decimal):
    """Stores within (lte) or beyond (gt) `km` of store `store_id`, as a subquery."""
    store_model = apps.get_model("stores", "Store")
    origin = store_model.objects.filter(pk=store_id)
    distance = _distance_km(
        Subquery(origin.values("latitude")[:1], output_field=FloatField()),
        Subquery(origin.values("longitude")[:1], output_field=FloatField()),
        "latitude",
        "longitude",
    )
    return (
        store_model.objects.annotate(distance_km=distance)
        .filter(**{f"distance_km__{op}": float(km)})
        .values("pk")
    )


def _condition_q(condition: dict, at: datetime) -> Q:
    kind, op = condition["type"], condition["op"]
    # Its type depends on the kind (list, number, id), as _condition_validate checked.
    value: Any = condition.get("value")
    negate = op == "not_in"
    if kind == "tier":
        q = Q(tier__in=value)
    elif kind == "points_balance":
        q = _compare("balance", op, value)
    elif kind == "lifetime_spend":
        q = _stats_total("lifetime_spend", op, Decimal(value))
    elif kind == "orders_count":
        q = _stats_total("orders_count", op, value)
    elif kind in ("recency_score", "frequency_score", "monetary_score"):
        q = _compare(f"stats__{kind}", op, value)
    elif kind == "days_since_last_order":
        q = _days_since("stats__last_order_at", op, value, at)
    elif kind == "spend_within":
        # Uncorrelated IN (SELECT ... GROUP BY ... HAVING): PostgreSQL hashes it once,
        # where a correlated sum would run once per member (bench/segments.py).
        spent = (
            _orders_counted()
            .filter(user__isnull=False, date_placed__gte=at - timedelta(days=condition["days"]))
            .order_by()
            .values("user_id")
            .annotate(total=Sum("total_incl_tax"))
        )
        lookup = "total" if op == "eq" else f"total__{op}"
        if _zero_matches(op, value):
            # Members who spent nothing match too: all but those whose sum fails.
            q = ~Q(user_id__in=spent.exclude(**{lookup: Decimal(value)}).values("user_id"))
        else:
            q = Q(user_id__in=spent.filter(**{lookup: Decimal(value)}).values("user_id"))
    elif kind == "home_store":
        q = Q(user__store_preference__store_id__in=value)
    elif kind == "last_pickup_store":
        q = Q(stats__last_pickup_store_id__in=value)
    elif kind == "home_store_distance":
        stores = _stores_by_distance(condition["store"], op, Decimal(value))
        q = Q(user__store_preference__store_id__in=stores)
    elif kind == "pickup_store_distance":
        stores = _stores_by_distance(condition["store"], op, Decimal(value))
        q = Q(stats__last_pickup_store_id__in=stores)
    elif kind == "bought_category":
        bought = MemberCategory.objects.filter(category_id=value)
        if condition.get("days"):
            bought = bought.filter(last_bought_at__gte=at - timedelta(days=condition["days"]))
        q = Q(pk__in=bought.values("member_id"))
    elif kind == "bought_product":
        line_model = apps.get_model("order", "Line")
        lines = line_model.objects.filter(
            Q(product_id=value) | Q(product__parent_id=value),
            order__user__isnull=False,
            order__in=_orders_counted(),
        )
        if condition.get("days"):
            lines = lines.filter(order__date_placed__gte=at - timedelta(days=condition["days"]))
        q = Q(user_id__in=lines.values("order__user_id"))
    elif kind == "birthday_month":
        q = Q(birthday__month__in=value)
    elif kind == "joined_within":
        q = Q(joined_at__gte=at - timedelta(days=value))
    elif kind == "consent":
        consent_model = apps.get_model("communication", "ConsentRecord")
        same = consent_model.objects.filter(purpose="marketing", channel=value)
        newer = same.filter(user_id=OuterRef("user_id")).filter(
            Q(recorded_at__gt=OuterRef("recorded_at"))
            | Q(recorded_at=OuterRef("recorded_at"), id__gt=OuterRef("id"))
        )
        # Users whose latest record for the channel is a grant.
        granted = same.filter(~Exists(newer), action="granted").values("user_id")
        q = Q(user_id__in=granted)
    elif kind == "language":
        q = Q(stats__language__in=value)
    else:  # rules_validate lets no other type through
        raise SegmentRulesError([_("Unknown condition type %(type)r.") % {"type": kind}])
    return ~q if negate else q


def _group_q(group: dict, at: datetime) -> Q:
    parts = [
        _group_q(child, at) if "conditions" in child else _condition_q(child, at)
        for child in group["conditions"]
    ]
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if group["match"] == "all" else combined | part
    return combined


def rules_q(rules: dict, *, at: datetime) -> Q:
    """One Q over Member for validated rules (rules_validate), evaluated as of `at`."""
    return _group_q(rules, at)
