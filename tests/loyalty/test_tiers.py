"""Tiers (loyalty/services/tiers.py) and their offer through the forked Applicator."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import RequestFactory
from django.utils import timezone
from oscar.apps.partner.strategy import Default
from oscar.core.loading import get_class, get_model

from loyalty.models import Member, Tier, TierLevel
from loyalty.selectors import tier_target
from loyalty.services.ledger import points_credit
from loyalty.services.tiers import tier_levels_ensure, tier_review
from shop.offer.applicator import Applicator as ShopApplicator
from tests.factories import product
from tests.loyalty.factories import member_factory, order_for

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")


def _basket_for(user, price="100.00"):
    basket = Basket.objects.create(owner=user)
    basket.strategy = Default()
    basket.add_product(product("Champagne", price=price), 1)
    return basket


def _apply(basket, user):
    request = RequestFactory().get("/")
    request.user = user
    get_class("offer.applicator", "Applicator")().apply(basket, user, request)
    return basket


def test_oscar_loads_our_applicator():
    assert get_class("offer.applicator", "Applicator") is ShopApplicator


@pytest.mark.parametrize(("tier", "discount"), [(Tier.GOLD, "5.00"), (Tier.BRONZE, "0.00")])
def test_a_gold_members_basket_gets_the_tier_discount_and_a_bronze_members_does_not(tier, discount):
    tier_levels_ensure()
    member = member_factory()
    Member.objects.filter(pk=member.pk).update(tier=tier)

    basket = _apply(_basket_for(member.user), member.user)

    assert basket.total_discount == Decimal(discount)
    assert basket.total_incl_tax == Decimal("100.00") - Decimal(discount)


def test_an_anonymous_basket_gets_no_tier_offer():
    from django.contrib.auth.models import AnonymousUser

    tier_levels_ensure()
    basket = Basket.objects.create()
    basket.strategy = Default()
    basket.add_product(product("Champagne", price="100.00"), 1)

    assert _apply(basket, AnonymousUser()).total_discount == 0


def test_reaching_the_spend_of_a_tier_upgrades_and_notifies_the_member():
    member = member_factory()
    item = product("Crémant", price="350.00", stock=5)

    order_for(member.user, (item, 1))  # the order_placed receiver reviews the tier

    member.refresh_from_db()
    assert member.tier == Tier.SILVER
    outbox = apps.get_model("communication", "OutboxMessage").objects
    assert outbox.filter(event_code="LOYALTY_TIER_CHANGED").exists()


def test_points_alone_can_reach_a_tier():
    member = member_factory()
    points_credit(member=member, amount=5000, reason="Order", idempotency_key="earn:1")

    assert tier_review(member=member) == Tier.GOLD


def test_a_tier_is_kept_a_year_then_drops_one_level_at_a_time():
    tier_levels_ensure()
    member = member_factory()
    start = timezone.now() - timedelta(days=800)
    Member.objects.filter(pk=member.pk).update(tier=Tier.GOLD, tier_since=start)
    member.refresh_from_db()

    assert tier_review(member=member, at=start + timedelta(days=200)) == Tier.GOLD
    assert tier_review(member=member, at=start + timedelta(days=366)) == Tier.SILVER
    assert tier_review(member=member, at=start + timedelta(days=500)) == Tier.SILVER
    assert tier_review(member=member, at=start + timedelta(days=732)) == Tier.BRONZE


def test_the_tier_target_is_a_read_that_creates_no_level_nor_offer():
    member = member_factory()
    points_credit(member=member, amount=5000, reason="Order", idempotency_key="earn:1")
    offers = get_model("offer", "ConditionalOffer").objects

    # No level exists yet: no tier above Bronze can be reached, and nothing is written.
    assert tier_target(member=member) == Tier.BRONZE
    assert TierLevel.objects.count() == 0
    assert offers.count() == 0

    tier_levels_ensure()
    assert tier_target(member=member) == Tier.GOLD
    assert TierLevel.objects.count() == 3
