"""Tiers: Bronze, Silver, Gold from the last 12 months, and their basket offer.

Policy (documented for members on their page):
- Upgrade as soon as the 12-month spend or the 12-month points reach a tier's minimum.
- Downgrade only after a tier has been held for 12 months, and one tier at a time:
  a Gold member who stops buying is Silver a year after becoming Gold, Bronze a year
  after that. This keeps a tier for at least a year and avoids cliff-edge drops.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from oscar.core.loading import get_model

from loyalty.models import Member, Tier, TierLevel
from loyalty.selectors import ROLLING_DAYS, TIER_ORDER, tier_target
from loyalty.services.notifications import member_notify

# Reached by either figure over 12 months; Bronze is everyone's starting tier.
DEFAULT_LEVELS = {
    Tier.BRONZE: {"min_spend": Decimal("0"), "min_points": 0, "points_multiplier": Decimal("1")},
    Tier.SILVER: {
        "min_spend": Decimal("300"),
        "min_points": 1500,
        "points_multiplier": Decimal("1.25"),
        "discount_percent": Decimal("2"),
    },
    Tier.GOLD: {
        "min_spend": Decimal("1000"),
        "min_points": 5000,
        "points_multiplier": Decimal("1.5"),
        "discount_percent": Decimal("5"),
    },
}


def tier_offer_sync(*, level: TierLevel) -> None:
    """Create or update the tier's USER offer: `discount_percent` off every product."""
    conditional_offer = get_model("offer", "ConditionalOffer")
    product_range = get_model("offer", "Range")
    condition_model = get_model("offer", "Condition")
    benefit_model = get_model("offer", "Benefit")
    with transaction.atomic():
        if level.offer is None:
            everything, _created = product_range.objects.get_or_create(
                slug="loyalty-all-products",
                defaults={"name": "Loyalty: all products", "includes_all_products": True},
            )
            condition = condition_model.objects.create(
                range=everything, type=condition_model.COUNT, value=1
            )
            benefit = benefit_model.objects.create(
                range=everything, type=benefit_model.PERCENTAGE, value=level.discount_percent
            )
            level.offer = conditional_offer.objects.create(
                name=f"Loyalty {level.get_tier_display()} members",
                slug=f"loyalty-tier-{level.tier}",
                description=f"{level.get_tier_display()} members' discount",
                offer_type=conditional_offer.USER,
                condition=condition,
                benefit=benefit,
                # Members' tier discounts apply after site offers, and combine with them.
                priority=-10,
                exclusive=False,
            )
            level.save(update_fields=["offer"])
        else:
            benefit = level.offer.benefit
            benefit.value = level.discount_percent
            benefit.save(update_fields=["value"])
        status = (
            conditional_offer.OPEN if level.discount_percent > 0 else conditional_offer.SUSPENDED
        )
        if level.offer.status != status:
            level.offer.status = status
            level.offer.save(update_fields=["status"])


def tier_levels_ensure() -> dict[str, TierLevel]:
    """The three tier levels, created with their defaults and offers if missing."""
    levels: dict[str, TierLevel] = {}
    for tier, defaults in DEFAULT_LEVELS.items():
        level, created = TierLevel.objects.get_or_create(tier=tier, defaults=defaults)
        if created or (level.offer is None and level.discount_percent > 0):
            tier_offer_sync(level=level)
        levels[tier] = level
    return levels


def tier_review(*, member: Member, at: datetime | None = None) -> str:
    """Apply the tier policy to the member; notify them when the tier changes."""
    at = at or timezone.now()
    # The levels the target is read against (their offers too) exist from here on.
    tier_levels_ensure()
    target = tier_target(member=member, at=at)
    with transaction.atomic():
        locked = Member.objects.select_for_update().select_related("user").get(pk=member.pk)
        current = locked.tier
        rank = TIER_ORDER.index
        if rank(target) > rank(current):
            new = target
        elif rank(target) < rank(current) and locked.tier_since <= at - timedelta(
            days=ROLLING_DAYS
        ):
            new = TIER_ORDER[rank(current) - 1]
        else:
            new = current
        if new != current:
            locked.tier, locked.tier_since = new, at
            locked.save(update_fields=["tier", "tier_since"])
            level = TierLevel.objects.get(tier=new)
            member_notify(
                member=locked,
                event_code="LOYALTY_TIER_CHANGED",
                context={
                    "tier_label": Tier(new).label,
                    "old_tier_label": Tier(current).label,
                    "discount": level.discount_percent.normalize() if level.discount_percent else 0,
                },
            )
    member.tier, member.tier_since = locked.tier, locked.tier_since
    return locked.tier


def tiers_review_all(*, at: datetime | None = None) -> int:
    """Review every member (daily, for downgrades); returns how many changed tier."""
    changed = 0
    for member in Member.objects.iterator():
        before = member.tier
        if tier_review(member=member, at=at) != before:
            changed += 1
    return changed
