"""Demo loyalty data: the demo shopper's year as a member, a referred friend, rewards.

The shopper (shopper@solomo.example) has a year of collected orders: Bronze, then
Silver, now Gold; points earned, a reward redeemed, points expiring within the month
and one order still pending. Her friend Hugo (a demo login) joined with her referral
code and has ordered, which rewarded her. Points move only through the loyalty services; the orders
are written as history (already collected), so they do not touch today's stock.
Running it again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.models import EntryKind, Member, Reward, RewardKind, Tier
from loyalty.selectors import tier_target
from loyalty.services.earning import earning_rule_ensure, order_points_award
from loyalty.services.ledger import pending_confirm, points_credit
from loyalty.services.members import member_enrol
from loyalty.services.referrals import (
    ReferralRefused,
    referral_apply,
    referral_reward_referrer,
)
from loyalty.services.rewards import reward_redeem
from loyalty.services.tiers import tier_levels_ensure
from shop.constants import COMPLETE
from stores.constants import PICKUP_SHIPPING_CODE

SHOPPER_EMAIL = "shopper@solomo.example"
# A demo login who also shops: he joined with Camille's referral code.
FRIEND_EMAIL = "staff.neudorf@solomo.example"
ORDER_PREFIX = "DEMO-L"
# (days ago, number of products, quantity each): over 1,000 EUR in the year (Gold).
ORDER_PLAN = (
    (350, 4, 3),
    (320, 3, 3),
    (290, 5, 2),
    (250, 4, 3),
    (210, 3, 4),
    (180, 5, 3),
    (150, 4, 3),
    (120, 3, 3),
    (90, 5, 3),
    (60, 4, 5),
    (30, 3, 3),
    (3, 3, 1),  # still within its return window: pending
)
# name, kind, points, value, stock (None: unlimited), limit per member (None: none)
REWARDS = (
    ("5 € off your next order", RewardKind.DISCOUNT, 500, Decimal("5.00"), None, None),
    ("Free delivery", RewardKind.FREE_DELIVERY, 300, None, None, None),
    ("A treat from the bakery", RewardKind.FREE_PRODUCT, 250, None, 25, 1),
)


@dataclass
class LoyaltySeedResult:
    members: int = 0
    orders: int = 0
    rewards: int = 0
    skipped: str = ""


def _products(count: int, offset: int):
    product_model = get_model("catalogue", "Product")
    products = list(
        product_model.objects.filter(is_public=True, stockrecords__price__isnull=False)
        .distinct()
        .order_by("pk")[offset : offset + count]
    )
    return [(p, p.stockrecords.order_by("pk").first()) for p in products]


def _history_order(*, user, number: str, placed, lines):
    """An order already collected, written as history (no stock is allocated today)."""
    order_model = get_model("order", "Order")
    line_model = get_model("order", "Line")
    total = sum((record.price * quantity for (_p, record), quantity in lines), Decimal("0.00"))
    order = order_model.objects.create(
        number=number,
        site=Site.objects.get_current(),
        user=user,
        currency=lines[0][0][1].price_currency,
        total_incl_tax=total,
        total_excl_tax=total,
        shipping_incl_tax=Decimal("0.00"),
        shipping_excl_tax=Decimal("0.00"),
        shipping_method="Click & collect",
        shipping_code=PICKUP_SHIPPING_CODE,
        status=COMPLETE,
        date_placed=placed,
    )
    for (product, record), quantity in lines:
        line_model.objects.create(
            order=order,
            partner=record.partner,
            partner_name=record.partner.name,
            partner_sku=record.partner_sku,
            stockrecord=record,
            product=product,
            title=product.get_title(),
            upc=product.upc,
            quantity=quantity,
            num_allocated=quantity,
            line_price_incl_tax=record.price * quantity,
            line_price_excl_tax=record.price * quantity,
            line_price_before_discounts_incl_tax=record.price * quantity,
            line_price_before_discounts_excl_tax=record.price * quantity,
            unit_price_incl_tax=record.price,
            unit_price_excl_tax=record.price,
        )
    return order


def _rewards_seed() -> int:
    created = 0
    treat = _products(1, 0)
    for name, kind, cost, value, stock, limit in REWARDS:
        product = treat[0][0] if kind == RewardKind.FREE_PRODUCT and treat else None
        if kind == RewardKind.FREE_PRODUCT and product is None:
            continue
        _reward, was_created = Reward.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "points_cost": cost,
                "value": value,
                "product": product,
                "stock": stock,
                "per_member_limit": limit,
            },
        )
        created += was_created
    return created


def _member_history(member: Member, *, now) -> int:
    placed_orders = 0
    for index, (days_ago, count, quantity) in enumerate(ORDER_PLAN):
        lines = [(item, quantity) for item in _products(count, offset=index * 2)]
        if not lines:
            break
        placed = now - timedelta(days=days_ago)
        order = _history_order(
            user=member.user, number=f"{ORDER_PREFIX}{index + 1:03d}", placed=placed, lines=lines
        )
        placed_orders += 1
        pending = order_points_award(order=order, at=placed)
        if pending is not None and pending.confirm_after <= now:
            pending_confirm(pending=pending, at=pending.confirm_after)
        if index == 6:
            points_credit(
                member=member,
                amount=150,
                reason="Birthday gesture at the Krutenau shop",
                idempotency_key=f"demo:gesture:{member.pk}",
                kind=EntryKind.ADJUST,
                at=placed,
            )
    return placed_orders


def _tier_from_history(member: Member, *, now) -> None:
    """Set the tier the history earned, with the day it was reached (no message sent)."""
    reached = {}
    for days_ago in range(365, -1, -5):
        at = now - timedelta(days=days_ago)
        target = tier_target(member=member, at=at)
        reached.setdefault(target, at)
    tier = Tier.GOLD if Tier.GOLD in reached else Tier.SILVER if Tier.SILVER in reached else None
    if tier is not None:
        Member.objects.filter(pk=member.pk).update(tier=tier, tier_since=reached[tier])


def loyalty_seed() -> LoyaltySeedResult:
    """Enrol the demo shopper with a year of history; idempotent."""
    result = LoyaltySeedResult()
    user_model = get_user_model()
    with transaction.atomic():
        tier_levels_ensure()
        earning_rule_ensure()
        result.rewards = _rewards_seed()
        shopper = user_model.objects.filter(email=SHOPPER_EMAIL).first()
        if shopper is None:
            result.skipped = f"no demo shopper ({SHOPPER_EMAIL})"
            return result
        member = member_enrol(user=shopper)
        # Other demo modules may place orders for the shopper too: our own marks the seed.
        if get_model("order", "Order").objects.filter(number=f"{ORDER_PREFIX}001").exists():
            return result  # already seeded
        now = timezone.now()
        Member.objects.filter(pk=member.pk).update(joined_at=now - timedelta(days=370))
        result.members += 1
        result.orders = _member_history(member, now=now)
        # A short-lived promotional bonus: newer than the order points, so the reward
        # below (oldest points first) leaves it, and it expires within the month.
        points_credit(
            member=member,
            amount=120,
            reason="Summer challenge bonus",
            idempotency_key=f"demo:challenge:{member.pk}",
            kind=EntryKind.BONUS,
            at=now - timedelta(days=60),
            expires_at=now + timedelta(days=18),
        )
        reward = Reward.objects.filter(kind=RewardKind.DISCOUNT).first()
        member.refresh_from_db()
        if reward is not None and member.balance >= reward.points_cost:
            reward_redeem(member=member, reward=reward, idempotency_key=f"demo:redeem:{member.pk}")

        friend_user = user_model.objects.filter(email=FRIEND_EMAIL).first()
        if friend_user is None:
            _tier_from_history(member, now=now)
            return result
        friend = member_enrol(user=friend_user)
        try:
            referral_apply(friend=friend, code=member.referral_code)
        except ReferralRefused as exc:  # e.g. he already ordered in another demo module
            result.skipped = f"referral: {exc.message}"
            _tier_from_history(member, now=now)
            return result
        result.members += 1
        lines = [(item, 1) for item in _products(2, offset=1)]
        if lines:
            order = _history_order(
                user=friend_user,
                number=f"{ORDER_PREFIX}F01",
                placed=now - timedelta(days=40),
                lines=lines,
            )
            result.orders += 1
            pending = order_points_award(order=order, at=order.date_placed)
            if pending is not None:
                pending_confirm(pending=pending, at=pending.confirm_after)
                referral_reward_referrer(friend=friend)
        _tier_from_history(member, now=now)
    return result
