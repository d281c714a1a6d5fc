"""Referrals (loyalty/services/referrals.py): share code, welcome reward, referrer reward."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.models import Member, Referral
from loyalty.selectors import earning_rule
from loyalty.services.earning import pending_confirm_due
from loyalty.services.referrals import ReferralRefused, referral_apply
from tests.factories import product
from tests.loyalty.factories import member_factory, order_for

pytestmark = pytest.mark.django_db


def _balance(member) -> int:
    return Member.objects.get(pk=member.pk).balance


def test_a_friend_gets_the_welcome_bonus_and_the_referrer_points_after_the_first_order():
    rule = earning_rule()
    rule.first_order_bonus = 0
    rule.save()
    referrer, friend = member_factory(), member_factory()

    referral_apply(friend=friend, code=referrer.referral_code.lower())
    assert (_balance(friend), _balance(referrer)) == (100, 0)

    order_for(friend.user, (product("Munster", price="10.00"), 1))
    order_for(friend.user, (product("Bretzel", price="10.00"), 1))
    assert _balance(referrer) == 0  # pending, not confirmed yet
    pending_confirm_due(at=timezone.now() + timedelta(days=30))
    pending_confirm_due(at=timezone.now() + timedelta(days=31))

    assert _balance(referrer) == 300
    assert _balance(friend) == 120


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown", "not valid"),
        ("self", "your own"),
        ("twice", "already joined"),
        ("back", "referred this member yourself"),
        ("ordered", "before their first order"),
    ],
)
def test_abusive_referrals_are_refused_and_move_nothing(case, message):
    referrer, friend = member_factory(), member_factory()
    code = referrer.referral_code
    if case == "unknown":
        code = "NOPE1234"
    elif case == "self":
        code = friend.referral_code
    elif case == "twice":
        referral_apply(friend=friend, code=member_factory().referral_code)
    elif case == "back":
        referral_apply(friend=referrer, code=friend.referral_code)
    elif case == "ordered":
        order_for(friend.user, (product("Munster", price="10.00"), 1))
    before = _balance(friend)

    with pytest.raises(ReferralRefused, match=message):
        referral_apply(friend=friend, code=code)

    assert _balance(friend) == before
    assert not Referral.objects.filter(referrer=referrer, friend=friend).exists()


def test_referrer_rewards_are_capped_per_year():
    rule = earning_rule()
    rule.referrals_per_year, rule.first_order_bonus = 1, 0
    rule.save()
    referrer = member_factory()
    for _ in range(2):
        friend = member_factory()
        referral_apply(friend=friend, code=referrer.referral_code)
        order_for(friend.user, (product("Munster", price="10.00"), 1))
    pending_confirm_due(at=timezone.now() + timedelta(days=30))

    assert _balance(referrer) == 300


def test_the_share_link_applies_the_code_at_sign_up(client):
    referrer = member_factory()

    landing = client.get(reverse("loyalty:referral", kwargs={"code": referrer.referral_code}))
    assert landing.status_code == 302
    client.post(
        reverse("customer:register"),
        {
            "email": "friend@example.com",
            "password1": "a-long-Passphrase-1",
            "password2": "a-long-Passphrase-1",
        },
    )

    friend = Member.objects.get(user__email="friend@example.com")
    assert friend.referral.referrer == referrer
    assert _balance(friend) == 100 + 100  # sign-up bonus + friend's welcome
