"""Members: who is one, their 12 months of spend and points, their tier, and what their
page shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise

from loyalty.models import (
    EntryKind,
    Member,
    Redemption,
    Tier,
    TierLevel,
)

from .counter import entries_labelled
from .rewards import reward_offers
from .rules import CENT, ROLLING_DAYS, TIER_ORDER, tier_levels


def member_for_user(*, user: User | AnonymousUser | None) -> Member | None:
    if user is None or not user.is_authenticated:
        return None
    return Member.objects.filter(user=user).first()


def tier_offers_for_tier(*, tier: str) -> list:
    """The tier's USER offer, available or not (the Applicator checks, shop/offer/cache.py)."""
    level = (
        TierLevel.objects.filter(tier=tier)
        .select_related("offer__condition", "offer__benefit")
        .first()
    )
    if level is None or level.offer is None or level.discount_percent <= 0:
        return []
    return [level.offer]


def tier_offers_for_user(*, user: User | AnonymousUser | None) -> list:
    """The tier's USER offer for a signed-in member, if available now."""
    member = member_for_user(user=user)
    if member is None:
        return []
    return [offer for offer in tier_offers_for_tier(tier=member.tier) if offer.is_available()]


def rolling_spend(*, member: Member, at: datetime | None = None) -> Decimal:
    """What the member spent on orders over the last 12 months (cancelled excluded)."""
    from django.conf import settings
    from oscar.core.loading import get_model

    order_model = get_model("order", "Order")
    at = at or timezone.now()
    total = (
        order_model.objects.filter(
            user_id=member.user_id,
            date_placed__gt=at - timedelta(days=ROLLING_DAYS),
            date_placed__lte=at,
        )
        .exclude(status__in=settings.LOYALTY_VOID_ORDER_STATUSES)
        .aggregate(total=Sum("total_incl_tax"))["total"]
    )
    # SQLite sums decimals as floats; money is shown to the cent.
    return (total or Decimal(0)).quantize(CENT)


def rolling_points(*, member: Member, at: datetime | None = None) -> int:
    """Points earned (orders and bonuses, not staff adjustments) over the last 12 months."""
    at = at or timezone.now()
    earned = member.entries.filter(
        Q(kind=EntryKind.EARN) | Q(kind=EntryKind.BONUS),
        created_at__gt=at - timedelta(days=ROLLING_DAYS),
        created_at__lte=at,
    ).aggregate(total=Sum("amount"))["total"]
    reversed_ = member.entries.filter(
        kind=EntryKind.REVERSAL,
        amount__lt=0,
        created_at__gt=at - timedelta(days=ROLLING_DAYS),
        created_at__lte=at,
    ).aggregate(total=Sum("amount"))["total"]
    return max((earned or 0) + (reversed_ or 0), 0)


def tier_target(*, member: Member, at: datetime | None = None) -> str:
    """The tier the last 12 months earn, before the downgrade policy. A tier whose level
    does not exist yet (loyalty.services.tiers.tier_levels_ensure) cannot be reached."""
    levels = tier_levels()
    spend = rolling_spend(member=member, at=at)
    points = rolling_points(member=member, at=at)
    target: str = Tier.BRONZE
    for tier in TIER_ORDER:
        level = levels.get(tier)
        if level is not None and (spend >= level.min_spend or points >= level.min_points > 0):
            target = tier
    return target


@dataclass
class Bar:
    """One bar of a server-rendered SVG chart (height in % of the tallest)."""

    label: str
    value: Decimal | int
    height: int
    second: Decimal | int = 0
    second_height: int = 0


@dataclass
class MemberSummary:
    member: Member
    tier_label: str | Promise
    next_tier_label: str | Promise | None
    next_tier_spend: Decimal | None
    next_tier_points: int | None
    progress_percent: int
    spend_12m: Decimal
    points_12m: int
    expiring_points: int
    expiring_at: datetime | None
    history: list = field(default_factory=list)
    # RewardOffer rows: what the member may redeem now, and why not.
    rewards: list = field(default_factory=list)
    vouchers: list = field(default_factory=list)
    referrals: int = 0
    referred: bool = False
    spend_by_month: list[Bar] = field(default_factory=list)
    spend_by_category: list[Bar] = field(default_factory=list)
    points_by_month: list[Bar] = field(default_factory=list)


def _bars(rows: Sequence[tuple[str, Decimal | int, Decimal | int]]) -> list[Bar]:
    top = max([max(a, b) for _label, a, b in rows] + [1])
    return [
        Bar(
            label=label,
            value=a,
            height=int(100 * a / top) if a > 0 else 0,
            second=b,
            second_height=int(100 * b / top) if b > 0 else 0,
        )
        for label, a, b in rows
    ]


def _months(at: datetime) -> list[date]:
    first = timezone.localtime(at).date().replace(day=1)
    months = []
    for _i in range(12):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def member_summary(*, user: User | AnonymousUser, at: datetime | None = None):
    """Everything the member's page shows, or None for a customer who has not joined."""
    from django.conf import settings
    from django.db.models.functions import TruncMonth
    from oscar.core.loading import get_model

    from loyalty.models import PointsLot, Referral

    member = member_for_user(user=user)
    if member is None:
        return None
    at = at or timezone.now()
    levels = tier_levels()
    spend = rolling_spend(member=member, at=at)
    points = rolling_points(member=member, at=at)
    rank = TIER_ORDER.index(member.tier)
    next_level = levels.get(TIER_ORDER[rank + 1]) if rank + 1 < len(TIER_ORDER) else None
    progress = 100
    if next_level is not None:
        shares = []
        if next_level.min_spend > 0:
            shares.append(spend / next_level.min_spend)
        if next_level.min_points > 0:
            shares.append(Decimal(points) / next_level.min_points)
        progress = int(min(max(shares + [Decimal(0)]), Decimal(1)) * 100)

    soon = at + timedelta(days=settings.LOYALTY_EXPIRY_NOTICE_DAYS)
    expiring = PointsLot.objects.filter(
        member=member, remaining__gt=0, expires_at__gt=at, expires_at__lte=soon
    ).order_by("expires_at")
    expiring_points = sum(lot.remaining for lot in expiring)

    months = _months(at)
    since = timezone.make_aware(datetime.combine(months[0], datetime.min.time()))
    order_model = get_model("order", "Order")
    line_model = get_model("order", "Line")
    orders = order_model.objects.filter(user_id=member.user_id, date_placed__gte=since).exclude(
        status__in=settings.LOYALTY_VOID_ORDER_STATUSES
    )
    by_month = {
        row["month"].date() if isinstance(row["month"], datetime) else row["month"]: (
            row["total"] or Decimal(0)
        ).quantize(CENT)
        for row in orders.annotate(month=TruncMonth("date_placed"))
        .values("month")
        .annotate(total=Sum("total_incl_tax"))
    }
    spend_rows = [
        (date_format(m, "M"), by_month.get(m) or Decimal("0.00"), Decimal(0)) for m in months
    ]
    categories: dict[str, Decimal] = {}
    lines = line_model.objects.filter(order__in=orders).select_related("product")
    for line in lines.prefetch_related("product__categories", "product__parent__categories"):
        product = line.product
        category = None
        if product is not None:
            cats = list(product.categories.all()) or (
                list(product.parent.categories.all()) if product.parent_id else []
            )
            category = cats[0].name if cats else None
        name = category or "—"
        categories[name] = categories.get(name, Decimal("0.00")) + line.line_price_incl_tax
    category_rows = sorted(categories.items(), key=lambda kv: kv[1], reverse=True)[:6]

    earned: dict[date, int] = {}
    used: dict[date, int] = {}
    entries = (
        member.entries.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "amount")
    )
    for row in entries:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        if row["amount"] > 0:
            earned[month] = earned.get(month, 0) + row["amount"]
        else:
            used[month] = used.get(month, 0) - row["amount"]
    points_rows = [(date_format(m, "M"), earned.get(m, 0), used.get(m, 0)) for m in months]

    return MemberSummary(
        member=member,
        tier_label=Tier(member.tier).label,
        next_tier_label=Tier(next_level.tier).label if next_level else None,
        next_tier_spend=max(next_level.min_spend - spend, Decimal(0)) if next_level else None,
        next_tier_points=max(next_level.min_points - points, 0) if next_level else None,
        progress_percent=progress,
        spend_12m=spend,
        points_12m=points,
        expiring_points=expiring_points,
        expiring_at=expiring[0].expires_at if expiring_points else None,
        history=entries_labelled(list(member.entries.all()[:20])),
        rewards=reward_offers(member=member, at=at),
        vouchers=[
            r.voucher
            for r in Redemption.objects.filter(member=member).select_related("voucher", "reward")
            if r.voucher.num_orders == 0 and r.voucher.end_datetime > at
        ],
        referrals=Referral.objects.filter(referrer=member).count(),
        referred=Referral.objects.filter(friend=member).exists(),
        spend_by_month=_bars(spend_rows),
        spend_by_category=_bars([(name, total, Decimal(0)) for name, total in category_rows]),
        points_by_month=_bars(points_rows),
    )
