"""Rewards: points buy a single-use Oscar voucher that only the member can use."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from loyalty.models import Member, Redemption, Reward, RewardKind
from loyalty.offers import RedeemedByBasketOwnerCondition
from loyalty.services.errors import LoyaltyError
from loyalty.services.ledger import points_debit

_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class RewardUnavailable(LoyaltyError):
    pass


def _voucher_code() -> str:
    return "LOY-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def _reward_range(reward: Reward):
    product_range = get_model("offer", "Range")
    if reward.kind == RewardKind.FREE_PRODUCT:
        rng, created = product_range.objects.get_or_create(
            slug=f"loyalty-reward-{reward.pk}",
            defaults={"name": f"Loyalty reward: {reward.name}"},
        )
        if created:
            rng.add_product(reward.product)
        return rng
    rng, _created = product_range.objects.get_or_create(
        slug="loyalty-all-products",
        defaults={"name": "Loyalty: all products", "includes_all_products": True},
    )
    return rng


def _voucher_for(reward: Reward, member: Member):
    voucher_model = get_model("voucher", "Voucher")
    offer_model = get_model("offer", "ConditionalOffer")
    benefit_model = get_model("offer", "Benefit")
    rng = _reward_range(reward)
    condition = RedeemedByBasketOwnerCondition.objects.create(
        range=rng,
        type="",  # a custom condition: its proxy_class says what it does
        value=1,
        proxy_class="loyalty.offers.RedeemedByBasketOwnerCondition",
    )
    if reward.kind == RewardKind.DISCOUNT:
        benefit = benefit_model.objects.create(
            range=rng, type=benefit_model.FIXED, value=reward.value
        )
    elif reward.kind == RewardKind.FREE_PRODUCT:
        benefit = benefit_model.objects.create(
            range=rng, type=benefit_model.PERCENTAGE, value=100, max_affected_items=1
        )
    else:
        benefit = benefit_model.objects.create(type=benefit_model.SHIPPING_PERCENTAGE, value=100)
    now = timezone.now()
    code = _voucher_code()
    offer = offer_model.objects.create(
        name=f"Loyalty {code}",
        slug=f"loyalty-{code.lower()}",
        offer_type=offer_model.VOUCHER,
        condition=condition,
        benefit=benefit,
        max_global_applications=1,
    )
    voucher = voucher_model.objects.create(
        name=f"{reward.name} ({member.number})",
        code=code,
        usage=voucher_model.SINGLE_USE,
        start_datetime=now,
        end_datetime=now + timedelta(days=reward.voucher_valid_days),
    )
    voucher.offers.add(offer)
    return voucher


def reward_redeem(*, member: Member, reward: Reward, idempotency_key: str) -> Redemption:
    """Spend the reward's points and create the member's voucher, in one transaction.

    The ledger's row lock on the member makes concurrent redemptions queue up; each
    sees the balance the previous one left (R18). A replay with the same key returns
    the first redemption. Raises RewardUnavailable or InsufficientPoints, moving nothing.
    """
    with transaction.atomic():
        existing = Redemption.objects.filter(entry__idempotency_key=idempotency_key).first()
        if existing is not None and existing.member_id == member.pk:
            return existing
        current = Reward.objects.filter(pk=reward.pk, is_active=True).first()
        if current is None:
            raise RewardUnavailable(_("This reward is no longer available."))
        entry = points_debit(
            member=member,
            amount=current.points_cost,
            reason=_("Reward: %(name)s") % {"name": current.name},
            idempotency_key=idempotency_key,
        )
        # The debit locked the member: a concurrent replay with the key now sees it.
        existing = Redemption.objects.filter(entry=entry).first()
        if existing is not None:
            return existing
        return Redemption.objects.create(
            member=member, reward=current, entry=entry, voucher=_voucher_for(current, member)
        )
