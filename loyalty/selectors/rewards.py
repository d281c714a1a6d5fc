"""Rewards (README, "Rewards"): what a member may redeem, and why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from loyalty.models import (
    Member,
    Redemption,
    Reward,
)


def moment_format(at: datetime) -> str:
    """A date and time in the active language's formats, in the shop's time zone."""
    local = timezone.localtime(at)
    return f"{date_format(local, 'DATE_FORMAT')} {time_format(local, 'TIME_FORMAT')}"


def reward_refusal(*, reward: Reward, redeemed: int, at: datetime) -> str | None:
    """Why `reward` cannot be redeemed now by a member who redeemed it `redeemed` times,
    or None when it can (points aside: the ledger says when they are too few)."""
    if not reward.is_active:
        return _("This reward is paused for now.")
    if reward.valid_from is not None and at < reward.valid_from:
        return _("This reward is offered from %(moment)s.") % {
            "moment": moment_format(reward.valid_from)
        }
    if reward.valid_until is not None and at >= reward.valid_until:
        return _("This reward was offered until %(moment)s.") % {
            "moment": moment_format(reward.valid_until)
        }
    if reward.stock is not None and reward.stock <= 0:
        return _("This reward is out of stock.")
    if reward.per_member_limit is not None and redeemed >= reward.per_member_limit:
        return ngettext(
            "You have redeemed this reward %(count)s time, the most allowed per member.",
            "You have redeemed this reward %(count)s times, the most allowed per member.",
            redeemed,
        ) % {"count": redeemed}
    return None


@dataclass(frozen=True)
class RewardOffer:
    """A reward as one member sees it: None as `refusal` when they may redeem it now."""

    reward: Reward
    redeemed: int
    refusal: str | None
    # Points the member still needs for it.
    missing: int = 0

    @property
    def few_left(self) -> bool:
        return self.reward.stock is not None and 0 < self.reward.stock <= 10


def reward_offers(*, member: Member, at: datetime | None = None) -> list[RewardOffer]:
    """Active rewards not past their end, with the member's redemptions of each (1 query)."""
    at = at or timezone.now()
    rewards = (
        Reward.objects.filter(is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .annotate(redeemed=Count("redemptions", filter=Q(redemptions__member=member)))
    )
    return [
        RewardOffer(
            reward=reward,
            redeemed=reward.redeemed,
            refusal=reward_refusal(reward=reward, redeemed=reward.redeemed, at=at),
            missing=max(reward.points_cost - member.balance, 0),
        )
        for reward in rewards
    ]


def rewards_for_dashboard() -> QuerySet[Reward]:
    """Every reward with its redemptions count, for the marketers' list (1 query)."""
    return Reward.objects.annotate(redemptions_count=Count("redemptions")).select_related("product")


def redemptions_count(*, member: Member, reward: Reward) -> int:
    return Redemption.objects.filter(member=member, reward=reward).count()
