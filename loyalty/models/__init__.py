"""Loyalty data, one module per role; every model is importable from here (and migrations
refer to `loyalty.models`).

- `points`: members and the points ledger (entries, lots, pending earns);
- `rules`: earning rules, multipliers, tiers;
- `adjustments`: points adjusted by staff at the member counter;
- `rewards`: rewards, redemptions, referrals, gifts;
- `segments`: segments and the member statistics they filter on;
- `campaigns`: campaigns, their messages, recipients, sends and UTM landings;
- `recommendations`: product pairs and members' recommendations.

Only loyalty.services.ledger writes Member.balance, PointsEntry, PointsLot and PendingEarn.
"""

# Registered with the models so that its (table-less) proxy has a migration.
from loyalty.offers import RedeemedByBasketOwnerCondition  # noqa: E402

from .adjustments import (
    AdjustmentCategory,
    AdjustmentDirection,
    PointsAdjustment,
    PointsAdjustmentDecision,
)
from .campaigns import (
    Campaign,
    CampaignChannel,
    CampaignMessage,
    CampaignRecipient,
    CampaignRewardKind,
    CampaignSend,
    CampaignSendStatus,
    CampaignStatus,
    CampaignTrigger,
    UtmLanding,
)
from .points import (
    EntryKind,
    Member,
    PendingEarn,
    PendingStatus,
    PointsEntry,
    PointsLot,
    Tier,
)
from .recommendations import (
    MemberRecommendation,
    ProductOrders,
    ProductPair,
    RecommendationReason,
    RecommendationRun,
)
from .rewards import (
    Gift,
    Redemption,
    Referral,
    Reward,
    RewardKind,
)
from .rules import (
    EarningRule,
    Multiplier,
    Rounding,
    TierLevel,
    redeem_max_share_initial,
    redeem_min_points_initial,
    redeem_point_value_initial,
)
from .segments import (
    MemberCategory,
    MemberStats,
    Segment,
)

__all__ = [
    "AdjustmentCategory",
    "AdjustmentDirection",
    "Campaign",
    "CampaignChannel",
    "CampaignMessage",
    "CampaignRecipient",
    "CampaignRewardKind",
    "CampaignSend",
    "CampaignSendStatus",
    "CampaignStatus",
    "CampaignTrigger",
    "EarningRule",
    "EntryKind",
    "Gift",
    "Member",
    "MemberCategory",
    "MemberRecommendation",
    "MemberStats",
    "Multiplier",
    "PendingEarn",
    "PendingStatus",
    "PointsAdjustment",
    "PointsAdjustmentDecision",
    "PointsEntry",
    "PointsLot",
    "ProductOrders",
    "ProductPair",
    "RecommendationReason",
    "RecommendationRun",
    "RedeemedByBasketOwnerCondition",
    "Redemption",
    "Referral",
    "Reward",
    "RewardKind",
    "Rounding",
    "Segment",
    "Tier",
    "TierLevel",
    "UtmLanding",
    "redeem_max_share_initial",
    "redeem_min_points_initial",
    "redeem_point_value_initial",
]
