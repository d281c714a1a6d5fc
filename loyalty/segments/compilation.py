"""Compiling valid rules into one Q over Member, so that a segment's members are a single
SQL query: every condition is a column of the member, of its MemberStats row or of a
one-to-one relation, or an EXISTS/scalar subquery (never a loop over members)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Exists, FloatField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
)
from django.utils.translation import gettext_lazy as _

from loyalty.models import MemberCategory

from .language import EARTH_RADIUS_KM, SegmentRulesError

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


# Each compiler takes (condition, op, value, at) and returns the Q of its members; "not_in"
# is applied by _condition_q around it.
Compiler = Callable[[dict, str, Any, datetime], Q]


def _spend_within(condition: dict, op: str, value: Any, at: datetime) -> Q:
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
        return ~Q(user_id__in=spent.exclude(**{lookup: Decimal(value)}).values("user_id"))
    return Q(user_id__in=spent.filter(**{lookup: Decimal(value)}).values("user_id"))


def _bought_category(condition: dict, op: str, value: Any, at: datetime) -> Q:
    bought = MemberCategory.objects.filter(category_id=value)
    if condition.get("days"):
        bought = bought.filter(last_bought_at__gte=at - timedelta(days=condition["days"]))
    return Q(pk__in=bought.values("member_id"))


def _bought_product(condition: dict, op: str, value: Any, at: datetime) -> Q:
    line_model = apps.get_model("order", "Line")
    lines = line_model.objects.filter(
        Q(product_id=value) | Q(product__parent_id=value),
        order__user__isnull=False,
        order__in=_orders_counted(),
    )
    if condition.get("days"):
        lines = lines.filter(order__date_placed__gte=at - timedelta(days=condition["days"]))
    return Q(user_id__in=lines.values("order__user_id"))


def _consent(condition: dict, op: str, value: Any, at: datetime) -> Q:
    consent_model = apps.get_model("communication", "ConsentRecord")
    same = consent_model.objects.filter(purpose="marketing", channel=value)
    newer = same.filter(user_id=OuterRef("user_id")).filter(
        Q(recorded_at__gt=OuterRef("recorded_at"))
        | Q(recorded_at=OuterRef("recorded_at"), id__gt=OuterRef("id"))
    )
    # Users whose latest record for the channel is a grant.
    granted = same.filter(~Exists(newer), action="granted").values("user_id")
    return Q(user_id__in=granted)


def _score(field: str) -> Compiler:
    return lambda condition, op, value, at: _compare(f"stats__{field}", op, value)


def _near(relation: str) -> Compiler:
    """Members whose store through `relation` is within (or beyond) the distance."""

    def compile_(condition: dict, op: str, value: Any, at: datetime) -> Q:
        stores = _stores_by_distance(condition["store"], op, Decimal(value))
        return Q(**{f"{relation}__in": stores})

    return compile_


_COMPILERS: dict[str, Compiler] = {
    "tier": lambda condition, op, value, at: Q(tier__in=value),
    "points_balance": lambda condition, op, value, at: _compare("balance", op, value),
    "lifetime_spend": lambda condition, op, value, at: _stats_total(
        "lifetime_spend", op, Decimal(value)
    ),
    "orders_count": lambda condition, op, value, at: _stats_total("orders_count", op, value),
    "recency_score": _score("recency_score"),
    "frequency_score": _score("frequency_score"),
    "monetary_score": _score("monetary_score"),
    "days_since_last_order": lambda condition, op, value, at: _days_since(
        "stats__last_order_at", op, value, at
    ),
    "spend_within": _spend_within,
    "home_store": lambda condition, op, value, at: Q(user__store_preference__store_id__in=value),
    "last_pickup_store": lambda condition, op, value, at: Q(stats__last_pickup_store_id__in=value),
    "home_store_distance": _near("user__store_preference__store_id"),
    "pickup_store_distance": _near("stats__last_pickup_store_id"),
    "bought_category": _bought_category,
    "bought_product": _bought_product,
    "birthday_month": lambda condition, op, value, at: Q(birthday__month__in=value),
    "joined_within": lambda condition, op, value, at: Q(joined_at__gte=at - timedelta(days=value)),
    "consent": _consent,
    "language": lambda condition, op, value, at: Q(stats__language__in=value),
}


def _condition_q(condition: dict, at: datetime) -> Q:
    kind, op = condition["type"], condition["op"]
    compiler = _COMPILERS.get(kind)
    if compiler is None:  # rules_validate lets no other type through
        raise SegmentRulesError([_("Unknown condition type %(type)r.") % {"type": kind}])
    # Its type depends on the kind (list, number, id), as validation checked.
    q = compiler(condition, op, condition.get("value"), at)
    return ~q if op == "not_in" else q


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
