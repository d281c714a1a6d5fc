"""The cost simulator (loyalty/cost_simulation.py) and its dashboard page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model
from oscar.test.factories import create_order

from loyalty.cost_simulation import earning_rule_simulate, reward_simulate
from loyalty.models import EarningRule, Reward, RewardKind
from loyalty.selectors import earning_rule, tier_levels
from loyalty.services.earning import earning_rule_ensure
from loyalty.services.ledger import points_credit
from tests.loyalty.factories import member_factory
from tests.roles import role_user
from tests.stores.factories import store

pytestmark = pytest.mark.django_db

Order = get_model("order", "Order")


def _order(member, days_ago: int):
    # Oscar's factory: one product at 10.00, no tax, free shipping.
    order = create_order(user=member.user)
    Order.objects.filter(pk=order.pk).update(date_placed=timezone.now() - timedelta(days=days_ago))
    return order


@pytest.fixture
def members():
    """m1 ordered twice in the last months (the first of them their first order ever), m2 once
    (a first order), m3 once recently and once 13 months ago."""
    m1, m2, m3 = member_factory(), member_factory(), member_factory()
    _order(m1, 60)
    _order(m1, 10)
    _order(m2, 20)
    _order(m3, 400)
    _order(m3, 5)
    return m1, m2, m3


def test_an_earning_rule_change_is_replayed_over_the_last_months_of_orders(members):
    m1, m2, m3 = members
    current = earning_rule_ensure()
    proposed = EarningRule.objects.get(pk=current.pk)
    proposed.points_per_unit = current.points_per_unit * 2
    proposed.first_order_bonus = current.first_order_bonus + 100

    forecast = earning_rule_simulate(current=current, proposed=proposed, months=6)

    # Each 10.00 order earns 10 x points per unit more (x the bronze multiplier); first
    # orders 100 more. m3's first order is older than the six months.
    level = tier_levels().get("bronze")
    extra = int(10 * current.points_per_unit * (level.points_multiplier if level else 1))
    assert forecast.orders == 4
    assert forecast.points == 4 * extra + 200
    assert forecast.money == (forecast.points * proposed.point_value).quantize(Decimal("0.01"))
    assert forecast.members == 3
    assert [(row.number, row.points) for row in forecast.top] == [
        (m1.number, 2 * extra + 100),
        (m2.number, extra + 100),
        (m3.number, extra),
    ]


def test_a_reward_is_replayed_over_the_points_members_earned(members):
    m1, m2, m3 = members
    now = timezone.now()
    points_credit(member=m1, amount=500, reason="test", idempotency_key="t1", at=now)
    points_credit(member=m2, amount=150, reason="test", idempotency_key="t2", at=now)
    points_credit(
        member=m3, amount=900, reason="test", idempotency_key="t3", at=now - timedelta(days=400)
    )
    reward = Reward(name="5 off", kind=RewardKind.DISCOUNT, points_cost=200, value=Decimal("5.00"))

    forecast = reward_simulate(reward=reward, rule=earning_rule(), months=6)

    # m1 can afford it twice; m2 not once; m3's points are older than six months.
    assert (forecast.members, forecast.redemptions, forecast.points) == (1, 2, 400)
    assert forecast.money == Decimal("10.00")
    assert [(row.number, row.points, row.money) for row in forecast.top] == [
        (m1.number, 400, Decimal("10.00"))
    ]
    reward.per_member_limit = 1
    assert reward_simulate(reward=reward, rule=earning_rule(), months=6).points == 200


def test_a_marketer_forecasts_from_the_rules_page_and_nothing_is_saved(members):
    client = Client()
    client.force_login(role_user("marketer", store_a=store("A"), store_b=store("B")))
    rules = client.get(reverse("loyalty_dashboard:loyalty-rules")).content.decode()
    simulator = reverse("loyalty_dashboard:loyalty-cost-simulator")
    assert f'href="{simulator}"' in rules
    current = earning_rule_ensure()
    before = EarningRule.objects.values().get(pk=current.pk)

    page = client.get(
        simulator,
        {
            "what": "rule",
            "rule-points_per_unit": str(current.points_per_unit * 2),
            "rule-rounding": current.rounding,
            "rule-click_collect_bonus": current.click_collect_bonus,
            "rule-first_order_bonus": current.first_order_bonus,
            "rule-point_value": "0.01",
            "months": 6,
        },
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="simulator-members">3<' in html
    assert EarningRule.objects.values().get(pk=current.pk) == before
