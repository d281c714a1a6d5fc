"""Rewards catalogue (loyalty/services/rewards.py): points for a member-only voucher."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.test import RequestFactory
from oscar.apps.partner.strategy import Default
from oscar.core.loading import get_class, get_model

from loyalty.models import EntryKind, Member, Redemption, Reward, RewardKind
from loyalty.services.errors import InsufficientPoints
from loyalty.services.ledger import points_credit
from loyalty.services.rewards import RewardUnavailable, reward_redeem
from tests.factories import product
from tests.loyalty.conftest import assert_ledger_balanced
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
Voucher = get_model("voucher", "Voucher")


def _rich_member(points=1000):
    member = member_factory()
    points_credit(member=member, amount=points, reason="Order", idempotency_key=f"e:{member.pk}")
    return member


def _discount(points_cost=500, value="10.00", **kwargs):
    return Reward.objects.create(
        name="10 € off", kind=RewardKind.DISCOUNT, points_cost=points_cost, value=value, **kwargs
    )


def _basket_with_voucher(user, voucher, price="30.00"):
    basket = Basket.objects.create(owner=user)
    basket.strategy = Default()
    basket.add_product(product("Munster", price=price), 1)
    basket.vouchers.add(voucher)
    request = RequestFactory().get("/")
    request.user = user
    get_class("offer.applicator", "Applicator")().apply(basket, user, request)
    return basket


def test_redeeming_spends_the_points_and_gives_a_single_use_voucher(db):
    member = _rich_member()

    redemption = reward_redeem(member=member, reward=_discount(), idempotency_key="r:1")

    assert Member.objects.get(pk=member.pk).balance == 500
    assert (redemption.entry.kind, redemption.entry.amount) == (EntryKind.REDEEM, -500)
    voucher = redemption.voucher
    assert voucher.usage == Voucher.SINGLE_USE
    assert voucher.is_active()
    basket = _basket_with_voucher(member.user, voucher)
    assert basket.total_discount == Decimal("10.00")


def test_a_replayed_redemption_is_the_same_one(db):
    member = _rich_member()
    reward = _discount()

    first = reward_redeem(member=member, reward=reward, idempotency_key="r:1")
    again = [reward_redeem(member=member, reward=reward, idempotency_key="r:1") for _ in range(5)]

    assert {r.pk for r in again} == {first.pk}
    assert Member.objects.get(pk=member.pk).balance == 500


def test_another_customers_basket_gets_nothing_from_the_voucher(db):
    owner = _rich_member()
    stranger = member_factory()
    voucher = reward_redeem(member=owner, reward=_discount(), idempotency_key="r:1").voucher

    basket = _basket_with_voucher(stranger.user, voucher)

    assert basket.total_discount == 0


def test_a_used_voucher_is_refused(db):
    member = _rich_member()
    voucher = reward_redeem(member=member, reward=_discount(), idempotency_key="r:1").voucher
    from oscar.test.factories import create_order

    voucher.record_usage(create_order(user=member.user), member.user)

    assert voucher.is_available_to_user(member.user)[0] is False


def test_free_delivery_and_free_product_rewards(db):
    member = _rich_member()
    gift = product("Bretzel", price="2.50")
    delivery = Reward.objects.create(
        name="Free delivery", kind=RewardKind.FREE_DELIVERY, points_cost=100
    )
    free = Reward.objects.create(
        name="A bretzel", kind=RewardKind.FREE_PRODUCT, points_cost=100, product=gift
    )

    delivery_voucher = reward_redeem(member=member, reward=delivery, idempotency_key="r:1").voucher
    gift_voucher = reward_redeem(member=member, reward=free, idempotency_key="r:2").voucher

    basket = Basket.objects.create(owner=member.user)
    basket.strategy = Default()
    basket.add_product(gift, 2)
    basket.vouchers.add(gift_voucher)
    request = RequestFactory().get("/")
    request.user = member.user
    get_class("offer.applicator", "Applicator")().apply(basket, member.user, request)
    assert basket.total_discount == Decimal("2.50")
    assert delivery_voucher.offers.get().benefit.type == "Shipping percentage"


def test_an_unavailable_reward_or_too_few_points_move_nothing(db):
    member = _rich_member(points=400)

    with pytest.raises(RewardUnavailable):
        reward_redeem(member=member, reward=_discount(is_active=False), idempotency_key="r:1")
    with pytest.raises(InsufficientPoints):
        reward_redeem(member=member, reward=_discount(), idempotency_key="r:2")

    assert Member.objects.get(pk=member.pk).balance == 400
    assert (Redemption.objects.count(), Voucher.objects.count()) == (0, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_double_spend():
    member = _rich_member(points=500)
    reward = _discount(points_cost=500)
    start = threading.Barrier(20)

    def redeem(i: int) -> str:
        start.wait()
        try:
            reward_redeem(member=Member(pk=member.pk), reward=reward, idempotency_key=f"r:{i}")
            return "ok"
        except InsufficientPoints:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(redeem, range(20)))

    assert results.count("ok") == 1
    assert (Redemption.objects.count(), Voucher.objects.count()) == (1, 1)
    assert Member.objects.get(pk=member.pk).balance == 0
    assert_ledger_balanced()


def test_the_offer_wizard_lists_the_rewards_own_condition(db):
    # A redeemed reward makes the condition that only its owner's basket satisfies
    member = _rich_member()
    voucher = reward_redeem(member=member, reward=_discount(), idempotency_key="r:1").voucher
    condition = voucher.offers.get().condition.proxy()

    # The dashboard's offer wizard lists custom conditions by str(): it must be a str,
    # not a lazy translation (the condition step raised TypeError for every marketer)
    assert str(condition) == "In the basket of the member who redeemed the reward"
    ConditionForm = get_class("dashboard.offers.forms", "ConditionForm")
    choices = dict(ConditionForm().fields["custom_condition"].choices)
    assert choices[condition.pk] == "In the basket of the member who redeemed the reward"
