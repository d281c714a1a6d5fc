"""The cost simulator (README.md "Cost simulator"): replay an earning rule change or a reward
over the last months of orders, before launching it. Reads only; nothing is saved.

Earning rule: every order of a member in the period earns, under the current and under the
proposed rule, what loyalty.services.earning would award it (line amounts x points per unit x
the best category/range multiplier x the member's tier multiplier, rounded once, plus the
click & collect and first order bonuses). The cost is the difference, in points and in money
at the proposed rule's point value. Orders are replayed at their full products' amount (the
part paid with points is not taken off), with today's multipliers and tiers.

Reward: a member who earned at least its cost in the period is counted as redeeming it as
many times as those points allow (within the limit per member and the stock), each
redemption costing its points and its money value (the amount off, the free product's
price, else the points at the point value).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Min, Sum
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.models import EarningRule, EntryKind, Member, PointsEntry, Reward, RewardKind
from loyalty.selectors import multipliers_active, tier_levels
from loyalty.services.earning import points_round, product_points_factor
from stores.selectors import PICKUP_SHIPPING_CODE

TOP = 10


@dataclass
class MemberCost:
    number: str
    email: str
    points: int
    money: Decimal


@dataclass
class CostForecast:
    since: datetime
    orders: int = 0
    redemptions: int = 0
    members: int = 0
    points_now: int = 0
    points_proposed: int = 0
    points: int = 0
    money: Decimal = Decimal("0.00")
    top: list[MemberCost] = field(default_factory=list)


def _since(months: int, at: datetime | None) -> datetime:
    return (at or timezone.now()) - timedelta(days=round(30.44 * months))


def _order_points(raw: Decimal, *, rule: EarningRule, pickup: bool, first: bool) -> int:
    points = points_round(raw * rule.points_per_unit, rule=rule)
    if pickup:
        points += rule.click_collect_bonus
    if first:
        points += rule.first_order_bonus
    return points


def _top(costs: dict[int, tuple[int, Decimal]], limit: int = TOP) -> list[MemberCost]:
    best = sorted(costs.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    people = {
        pk: (number, email)
        for pk, number, email in Member.objects.filter(pk__in=[pk for pk, _c in best]).values_list(
            "pk", "number", "user__email"
        )
    }
    return [
        MemberCost(number=people[pk][0], email=people[pk][1], points=points, money=money)
        for pk, (points, money) in best
    ]


def earning_rule_simulate(
    *, current: EarningRule, proposed: EarningRule, months: int, at: datetime | None = None
) -> CostForecast:
    """What `proposed` would have cost over the last `months` months of members' orders,
    compared with `current`; members affected are those whose points change."""
    since = _since(months, at)
    forecast = CostForecast(since=since)
    order_model = get_model("order", "Order")
    orders = order_model.objects.filter(
        user__loyalty_member__isnull=False, date_placed__gte=since
    ).exclude(status__in=settings.LOYALTY_VOID_ORDER_STATUSES)
    members = dict(
        Member.objects.filter(user__in=orders.values("user_id")).values_list("user_id", "pk")
    )
    tiers = dict(Member.objects.filter(pk__in=members.values()).values_list("pk", "tier"))
    firsts = dict(
        order_model.objects.filter(user_id__in=members)
        .values("user_id")
        .annotate(first=Min("date_placed"))
        .values_list("user_id", "first")
    )
    levels = tier_levels()
    multipliers = multipliers_active()
    product_model = get_model("catalogue", "Product")
    factors: dict[int | None, Decimal] = {None: Decimal(1)}
    raw: dict[int, Decimal] = defaultdict(Decimal)
    for order_id, product_id, amount in (
        get_model("order", "Line")
        .objects.filter(order__in=orders)
        .values_list("order_id", "product_id", "line_price_incl_tax")
        .iterator(chunk_size=5000)
    ):
        if product_id not in factors:
            product = product_model.objects.filter(pk=product_id).first()
            factors[product_id] = product_points_factor(product, multipliers)
        raw[order_id] += amount * factors[product_id]
    costs: dict[int, list] = defaultdict(lambda: [0, Decimal("0.00")])
    for order_id, user_id, placed, shipping_code, has_pickup in orders.values_list(
        "pk", "user_id", "date_placed", "shipping_code", "pickup"
    ).iterator(chunk_size=5000):
        member_id = members[user_id]
        level = levels.get(tiers[member_id])
        amount = raw[order_id] * (level.points_multiplier if level else 1)
        pickup = has_pickup is not None or shipping_code == PICKUP_SHIPPING_CODE
        first = placed == firsts.get(user_id)
        now = _order_points(amount, rule=current, pickup=pickup, first=first)
        then = _order_points(amount, rule=proposed, pickup=pickup, first=first)
        forecast.orders += 1
        forecast.points_now += now
        forecast.points_proposed += then
        costs[member_id][0] += then - now
    forecast.points = forecast.points_proposed - forecast.points_now
    forecast.money = (forecast.points * proposed.point_value).quantize(Decimal("0.01"))
    changed = {
        pk: (points, (points * proposed.point_value).quantize(Decimal("0.01")))
        for pk, (points, _m) in costs.items()
        if points
    }
    forecast.members = len(changed)
    forecast.top = _top(changed)
    return forecast


def _reward_money(reward: Reward, rule: EarningRule) -> Decimal:
    if reward.kind == RewardKind.DISCOUNT and reward.value:
        return reward.value
    if reward.kind == RewardKind.FREE_PRODUCT and reward.product_id:
        price = (
            get_model("partner", "StockRecord")
            .objects.filter(product_id=reward.product_id, price__isnull=False)
            .order_by("price")
            .values_list("price", flat=True)
            .first()
        )
        if price is not None:
            return price
    return (reward.points_cost * rule.point_value).quantize(Decimal("0.01"))


def reward_simulate(
    *, reward: Reward, rule: EarningRule, months: int, at: datetime | None = None
) -> CostForecast:
    """What `reward` would have cost had it been offered over the last `months` months:
    members who earned its cost in points redeem it (see the module docstring)."""
    since = _since(months, at)
    forecast = CostForecast(since=since)
    earned = (
        PointsEntry.objects.filter(
            kind__in=[EntryKind.EARN, EntryKind.BONUS], amount__gt=0, created_at__gte=since
        )
        .values("member_id")
        .annotate(points=Sum("amount"))
        .filter(points__gte=reward.points_cost)
        .values_list("member_id", "points")
    )
    money = _reward_money(reward, rule)
    stock = reward.stock
    costs = {}
    for member_id, points in sorted(earned, key=lambda row: (-row[1], row[0])):
        times = points // reward.points_cost
        if reward.per_member_limit:
            times = min(times, reward.per_member_limit)
        if stock is not None:
            times = min(times, stock)
            stock -= times
        if times <= 0:
            continue
        costs[member_id] = (times * reward.points_cost, times * money)
    forecast.members = len(costs)
    forecast.redemptions = sum(points // reward.points_cost for points, _m in costs.values())
    forecast.points = sum(points for points, _m in costs.values())
    forecast.money = sum((m for _p, m in costs.values()), Decimal("0.00"))
    forecast.top = _top(costs)
    return forecast
