"""Referrals: a friend joins with a member's code; both are rewarded, once.

Refused: an unknown code, one's own code, a second referral of the same friend (UNIQUE
in the database), a friend who has already ordered, a referral back to one's own
referrer, and referrer rewards beyond EarningRule.referrals_per_year in 12 months.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty.models import EntryKind, Member, PendingEarn, PendingStatus, PointsEntry, Referral
from loyalty.selectors import earning_rule
from loyalty.services.errors import LoyaltyError
from loyalty.services.ledger import points_credit

# Where the share link keeps the code until the friend signs up.
REFERRAL_SESSION_KEY = "loyalty_referral_code"


class ReferralRefused(LoyaltyError):
    pass


def referral_apply(*, friend: Member, code: str) -> Referral:
    """Record that `friend` was referred by the owner of `code` and give the welcome bonus."""
    code = (code or "").strip().upper()
    referrer = Member.objects.filter(referral_code=code).first()
    if referrer is None:
        raise ReferralRefused(_("This referral code is not valid."))
    if referrer.pk == friend.pk:
        raise ReferralRefused(_("You cannot use your own referral code."))
    if Referral.objects.filter(referrer=friend, friend=referrer).exists():
        raise ReferralRefused(_("You referred this member yourself."))
    if Referral.objects.filter(friend=friend).exists():
        raise ReferralRefused(_("You have already joined with a referral code."))
    if PendingEarn.objects.filter(member=friend).exists():
        raise ReferralRefused(_("Referral codes are for new customers, before their first order."))
    rule = earning_rule()
    try:
        with transaction.atomic():
            referral = Referral.objects.create(referrer=referrer, friend=friend)
            if rule.referral_welcome_bonus:
                points_credit(
                    member=friend,
                    amount=rule.referral_welcome_bonus,
                    # No name: the ledger is append-only and outlives an erased account
                    # (README "Erasure").
                    reason=_("Welcome bonus: you joined through a friend's invitation"),
                    idempotency_key=f"bonus:referral-welcome:{friend.pk}",
                    kind=EntryKind.BONUS,
                )
    except IntegrityError:
        # A concurrent referral of the same friend won the UNIQUE constraint.
        raise ReferralRefused(_("You have already joined with a referral code.")) from None
    return referral


def referral_reward_referrer(*, friend: Member) -> PointsEntry | None:
    """Reward the referrer once the friend's first order is confirmed; idempotent."""
    referral = Referral.objects.filter(friend=friend).select_related("referrer").first()
    if referral is None or referral.rewarded_at is not None:
        return None
    if not PendingEarn.objects.filter(member=friend, status=PendingStatus.CONFIRMED).exists():
        return None
    rule = earning_rule()
    now = timezone.now()
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.rewarded_at is not None:
            return None
        recent = Referral.objects.filter(
            referrer=referral.referrer, rewarded_at__gt=now - timedelta(days=365)
        ).count()
        locked.rewarded_at = now
        locked.save(update_fields=["rewarded_at"])
        if recent >= rule.referrals_per_year or not rule.referrer_bonus:
            return None
        return points_credit(
            member=referral.referrer,
            amount=rule.referrer_bonus,
            reason=_("A friend you invited placed a first order"),
            idempotency_key=f"bonus:referral:{friend.pk}",
            kind=EntryKind.BONUS,
        )
