"""Reads of the loyalty app, one module per role; every name is importable from here.

- `rules`: the earning and redemption rules, multipliers, tier levels;
- `members`: members, their 12 months, their tier target and their page;
- `counter`: the member counter and adjustments (dashboard);
- `segments`: segment members and the offers of a member's segments;
- `rewards`: what a member may redeem, and why not;
- `campaigns`: campaigns with their counts.

Selectors never write: rows they need are created by services
(loyalty.services.earning.earning_rule_ensure, loyalty.services.tiers.tier_levels_ensure).
"""

from .campaigns import (
    campaigns_with_counts,
)
from .counter import (
    CounterMember,
    adjustments_decided,
    adjustments_pending,
    email_masked,
    entries_labelled,
    member_at_counter,
    member_name_masked,
)
from .members import (
    Bar,
    MemberSummary,
    member_for_user,
    member_summary,
    rolling_points,
    rolling_spend,
    tier_offers_for_tier,
    tier_offers_for_user,
    tier_target,
)
from .rewards import (
    RewardOffer,
    moment_format,
    redemptions_count,
    reward_offers,
    reward_refusal,
    rewards_for_dashboard,
)
from .rules import (
    CENT,
    ROLLING_DAYS,
    TIER_ORDER,
    RedemptionRule,
    earning_rule,
    multipliers_active,
    redemption_rule,
    request_cache_reset,
    tier_levels,
)
from .segments import (
    SEGMENTS_WITH_OFFERS_KEY,
    SampleMember,
    segment_members,
    segment_membership_cache_key,
    segment_offer_pks_for_member,
    segment_offers_for_user,
    segment_sample,
    segments_with_offers,
)

__all__ = [
    "Bar",
    "CENT",
    "CounterMember",
    "MemberSummary",
    "ROLLING_DAYS",
    "RedemptionRule",
    "RewardOffer",
    "SEGMENTS_WITH_OFFERS_KEY",
    "SampleMember",
    "TIER_ORDER",
    "adjustments_decided",
    "adjustments_pending",
    "campaigns_with_counts",
    "earning_rule",
    "email_masked",
    "entries_labelled",
    "member_at_counter",
    "member_for_user",
    "member_name_masked",
    "member_summary",
    "moment_format",
    "multipliers_active",
    "redemption_rule",
    "redemptions_count",
    "request_cache_reset",
    "reward_offers",
    "reward_refusal",
    "rewards_for_dashboard",
    "rolling_points",
    "rolling_spend",
    "segment_members",
    "segment_membership_cache_key",
    "segment_offer_pks_for_member",
    "segment_offers_for_user",
    "segment_sample",
    "segments_with_offers",
    "tier_levels",
    "tier_offers_for_tier",
    "tier_offers_for_user",
    "tier_target",
]
