"""Rewards: points buy a single-use Oscar voucher that only the member can use.

README, "Rewards": marketers create, edit, pause and resume rewards in the dashboard;
a redemption checks that the reward is active and offered now, the member's own limit
under the member's row lock, then takes one from the stock with a conditional UPDATE
(never below zero, whatever the concurrency) in the same transaction as the debit.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from loyalty.models import Member, Redemption, Reward, RewardKind
from loyalty.offers import RedeemedByBasketOwnerCondition
from loyalty.selectors import redemptions_count, reward_refusal
from loyalty.services.errors import LoyaltyError
from loyalty.services.ledger import member_lock, points_debit

_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class RewardUnavailable(LoyaltyError):
    pass


class RewardChanged(LoyaltyError):
    """The stock moved while a marketer was editing it; nothing was saved."""


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


def _voucher_for(reward: Reward, member: Member, *, redeemed: int):
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
        # Voucher names are unique: the member's n-th voucher of a reward says which.
        name=f"{reward.name} ({member.number}{f'-{redeemed + 1}' if redeemed else ''})",
        code=code,
        usage=voucher_model.SINGLE_USE,
        start_datetime=now,
        end_datetime=now + timedelta(days=reward.voucher_valid_days),
    )
    voucher.offers.add(offer)
    return voucher


def reward_redeem(
    *, member: Member, reward: Reward, idempotency_key: str, at: datetime | None = None
) -> Redemption:
    """Spend the reward's points, take one from its stock and create the member's voucher,
    in one transaction.

    The member's row lock makes one member's redemptions queue up; each sees the balance
    and the redemptions count the previous one left (R18, per-member limit). The stock
    is taken by a conditional UPDATE (`stock > 0`), so concurrent members never take it
    below zero. A replay with the same key returns the first redemption. Raises
    RewardUnavailable (with the reason) or InsufficientPoints, moving nothing.
    """
    at = at or timezone.now()
    with transaction.atomic():
        existing = Redemption.objects.filter(entry__idempotency_key=idempotency_key).first()
        if existing is not None and existing.member_id == member.pk:
            return existing
        locked = member_lock(member)
        # A concurrent replay with the key may have committed while we waited.
        existing = Redemption.objects.filter(entry__idempotency_key=idempotency_key).first()
        if existing is not None and existing.member_id == member.pk:
            return existing
        current = Reward.objects.filter(pk=reward.pk).first()
        if current is None:
            raise RewardUnavailable(_("This reward is no longer available."))
        redeemed = redemptions_count(member=locked, reward=current)
        if (refusal := reward_refusal(reward=current, redeemed=redeemed, at=at)) is not None:
            raise RewardUnavailable(refusal)
        entry = points_debit(
            member=locked,
            amount=current.points_cost,
            reason=_("Reward: %(name)s") % {"name": current.name},
            idempotency_key=idempotency_key,
        )
        if current.stock is not None:
            taken = Reward.objects.filter(pk=current.pk, stock__gt=0).update(stock=F("stock") - 1)
            if not taken:
                # Leaving the block rolls the debit back.
                raise RewardUnavailable(_("This reward is out of stock."))
        return Redemption.objects.create(
            member=locked,
            reward=current,
            entry=entry,
            voucher=_voucher_for(current, locked, redeemed=redeemed),
        )


def reward_save(*, reward: Reward, fields: list[str], stock_seen: int | None = None) -> Reward:
    """Create `reward` (no pk) or save the `fields` a marketer changed.

    The stock is written only when the marketer changed it, and only if it is still what
    they saw (`stock_seen`): redemptions take from it meanwhile, and overwriting their
    count would sell more than the marketer meant. RewardChanged otherwise, nothing saved.
    """
    with transaction.atomic():
        if reward.pk is None:
            reward.save()
            return reward
        locked = Reward.objects.select_for_update().get(pk=reward.pk)
        if "stock" in fields and locked.stock != stock_seen:
            reward.stock = locked.stock
            raise RewardChanged(
                _(
                    "Members redeemed this reward while you were editing it: "
                    "%(left)s left now. Check the stock and save again."
                )
                % {"left": _("no limit") if locked.stock is None else locked.stock}
            )
        if fields:
            reward.save(update_fields=fields)
        return reward


def reward_set_active(*, reward: Reward, active: bool) -> Reward:
    """Pause (no new redemptions; vouchers already given keep working) or resume."""
    Reward.objects.filter(pk=reward.pk).update(is_active=active)
    reward.is_active = active
    return reward
