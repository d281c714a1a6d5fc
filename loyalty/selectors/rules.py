"""The programme's rules as marketers set them: earning and redemption, multipliers,
tier levels."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

from loyalty.models import (
    EarningRule,
    Multiplier,
    Tier,
    TierLevel,
)

TIER_ORDER: list[str] = [Tier.BRONZE, Tier.SILVER, Tier.GOLD]
CENT = Decimal("0.01")
ROLLING_DAYS = 365


def earning_rule() -> EarningRule:
    """The programme's earning rule: its row, or an unsaved one with the defaults until
    something saves it (the dashboard's rule forms, or
    loyalty.services.earning.earning_rule_ensure in the seeders). A read writes nothing."""
    return EarningRule.objects.filter(pk=1).first() or EarningRule(pk=1)


@dataclass(frozen=True)
class RedemptionRule:
    """What points are worth at checkout, as the marketers set it (EarningRule)."""

    point_value: Decimal
    min_points: int
    max_share: Decimal


class _RequestCache(threading.local):
    # Only while an HTTP request is served (receivers.py starts and ends it): a checkout
    # asks several times per request and must see one value throughout, while a worker
    # or a shell, living on, must see a marketer's change at once.
    active = False
    redemption_rule: RedemptionRule | None = None


_request_cache = _RequestCache()


def request_cache_reset(*, active: bool | None = None) -> None:
    """Forget the cached rules; `active`: whether to cache from now on (None: unchanged)."""
    if active is not None:
        _request_cache.active = active
    _request_cache.redemption_rule = None


def redemption_rule() -> RedemptionRule:
    """The redemption rule: one query per HTTP request, a fresh read outside requests."""
    cached = _request_cache.redemption_rule
    if cached is not None:
        return cached
    rule = earning_rule()
    current = RedemptionRule(
        point_value=rule.point_value,
        min_points=rule.redeem_min_points,
        max_share=rule.redeem_max_share,
    )
    if _request_cache.active:
        _request_cache.redemption_rule = current
    return current


def multipliers_active() -> list[Multiplier]:
    return list(Multiplier.objects.filter(is_active=True).select_related("category", "range"))


def tier_levels() -> dict[str, TierLevel]:
    return {level.tier: level for level in TierLevel.objects.select_related("offer")}
