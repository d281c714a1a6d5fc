"""seed_demo enrols the demo shopper with a year of loyalty history (shop/demo/loyalty.py)."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from loyalty.models import Member, PointsEntry, Tier
from loyalty.selectors import member_summary

pytestmark = pytest.mark.django_db


def test_the_demo_shopper_has_a_year_of_history_and_seeding_again_adds_nothing():
    call_command("seed_demo", stdout=io.StringIO())
    entries = PointsEntry.objects.count()

    output = io.StringIO()
    call_command("seed_demo", stdout=output)

    shopper = get_user_model().objects.get(email="shopper@solomo.example")
    summary = member_summary(user=shopper)
    assert summary.member.tier == Tier.GOLD
    assert summary.member.balance > 0
    assert summary.member.pending > 0
    assert summary.expiring_points > 0
    assert summary.referrals == 1
    assert len(summary.vouchers) == 1
    assert len([bar for bar in summary.spend_by_month if bar.value]) >= 10
    assert PointsEntry.objects.count() == entries
    assert Member.objects.count() == 2
    assert "Loyalty: 0 members enrolled" in output.getvalue()
