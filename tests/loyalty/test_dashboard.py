"""Marketer pages under /dashboard/loyalty/ with Oscar's layout and permissions."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.forms.models import model_to_dict
from django.urls import reverse
from oscar.test.factories import UserFactory

from loyalty.dashboard.forms import EarningRuleForm
from loyalty.models import EarningRule, Multiplier, Tier, TierLevel
from loyalty.selectors import earning_rule
from loyalty.services.earning import earning_rule_ensure
from loyalty.services.redemption import points_value
from loyalty.services.tiers import tier_levels_ensure
from tests.factories import category

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="loyalty",
            codename__in=[
                "change_earningrule",
                "view_multiplier",
                "add_multiplier",
                "change_multiplier",
                "delete_multiplier",
                "view_tierlevel",
                "change_tierlevel",
            ],
        )
    )
    client.force_login(user)
    return user


def test_a_marketer_changes_the_earning_rules(client, marketer):
    url = reverse("loyalty_dashboard:loyalty-rules")
    page = client.get(url)
    assert page.status_code == 200
    assert b"Earning rules" in page.content

    response = client.post(
        url,
        {
            "points_per_unit": "2.00",
            "rounding": "half_up",
            "click_collect_bonus": 10,
            "signup_bonus": 0,
            "first_order_bonus": 0,
            "review_bonus": 5,
            "birthday_bonus": 50,
            "point_value": "0.02",
            "redeem_min_points": 0,
            "redeem_max_share": "1",
            "gift_sent_daily_points": 500,
            "gift_sent_monthly_points": 2000,
            "gift_received_daily_points": 1000,
            "gift_received_monthly_points": 4000,
        },
    )

    assert response.status_code == 302
    rule = earning_rule()
    assert (rule.points_per_unit, rule.rounding, rule.signup_bonus) == (
        Decimal("2.00"),
        "half_up",
        0,
    )
    assert (rule.point_value, rule.redeem_min_points, rule.redeem_max_share) == (
        Decimal("0.02"),
        0,
        Decimal("1"),
    )


def test_the_redemption_rules_start_from_the_settings(client, marketer, settings):
    settings.LOYALTY_POINT_VALUE = Decimal("0.005")
    settings.LOYALTY_REDEEM_MIN_POINTS = 250
    settings.LOYALTY_REDEEM_MAX_SHARE = Decimal("0.3")
    EarningRule.objects.all().delete()

    page = client.get(reverse("loyalty_dashboard:loyalty-rules"))

    form = page.context["form"]
    assert (
        form.initial["point_value"],
        form.initial["redeem_min_points"],
        form.initial["redeem_max_share"],
    ) == (Decimal("0.005"), 250, Decimal("0.3"))
    assert "Paying with points" in page.content.decode()


INVALID_REDEMPTION = [
    (
        "point_value",
        "0",
        "Enter an amount greater than 0: the money one point pays, "
        "for example 0.01 so that 100 points pay 1.00.",
    ),
    (
        "point_value",
        "-0.01",
        "Enter an amount greater than 0: the money one point pays, "
        "for example 0.01 so that 100 points pay 1.00.",
    ),
    ("redeem_max_share", "1.5", "Enter a share from 0 to 1, for example 0.5 for half."),
    ("redeem_max_share", "50", "Enter a share from 0 to 1, for example 0.5 for half."),
    ("redeem_max_share", "-0.1", "Enter a share from 0 to 1, for example 0.5 for half."),
    ("redeem_min_points", "-1", "Enter 0 or a positive number of points (0: no minimum)."),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID_REDEMPTION)
def test_invalid_redemption_rules_get_a_form_error_and_change_nothing(
    client, marketer, field, value, message
):
    # Given the rules as they are, and a post that also changes a valid field
    before = model_to_dict(earning_rule())
    data = {**EarningRuleForm(instance=earning_rule()).initial, "signup_bonus": 999}

    response = client.post(reverse("loyalty_dashboard:loyalty-rules"), {**data, field: value})

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    page = response.content.decode()
    assert "Nothing was saved: please correct the values marked below." in page
    assert message in page
    assert model_to_dict(earning_rule()) == before
    assert points_value(1000) == Decimal("10.00")


def test_the_dashboard_menu_shows_loyalty_to_a_marketer(client, marketer):
    page = client.get(reverse("dashboard:index"))

    assert reverse("loyalty_dashboard:loyalty-rules").encode() in page.content


@pytest.mark.parametrize("staff", [False, True])
def test_users_without_the_permission_are_kept_out(client, staff):
    client.force_login(UserFactory(is_staff=staff))

    response = client.get(reverse("loyalty_dashboard:loyalty-rules"))

    assert response.status_code in (302, 403)
    assert earning_rule().points_per_unit == Decimal("1.00")


def test_multiplier_crud(client, marketer):
    cheese = category("Cheese")
    create = reverse("loyalty_dashboard:loyalty-multiplier-create")

    both_missing = client.post(create, {"name": "x", "factor": "2", "is_active": "on"})
    assert "either a category or a range" in both_missing.content.decode()

    client.post(create, {"name": "Cheese week", "category": cheese.pk, "factor": "2"})
    multiplier = Multiplier.objects.get()
    assert (multiplier.category, multiplier.factor, multiplier.is_active) == (
        cheese,
        Decimal("2"),
        False,
    )
    listing = client.get(reverse("loyalty_dashboard:loyalty-multiplier-list"))
    assert b"Cheese week" in listing.content

    client.post(
        reverse("loyalty_dashboard:loyalty-multiplier-update", kwargs={"pk": multiplier.pk}),
        {"name": "Cheese week", "category": cheese.pk, "factor": "3", "is_active": "on"},
    )
    multiplier.refresh_from_db()
    assert (multiplier.factor, multiplier.is_active) == (Decimal("3"), True)

    client.post(
        reverse("loyalty_dashboard:loyalty-multiplier-delete", kwargs={"pk": multiplier.pk})
    )
    assert not Multiplier.objects.exists()


def test_changing_a_tiers_discount_changes_its_oscar_offer(client, marketer):
    tier_levels_ensure()
    gold = TierLevel.objects.get(tier=Tier.GOLD)

    assert client.get(reverse("loyalty_dashboard:loyalty-tier-list")).status_code == 200
    client.post(
        reverse("loyalty_dashboard:loyalty-tier-update", kwargs={"pk": gold.pk}),
        {
            "min_spend": "900.00",
            "min_points": 4000,
            "points_multiplier": "2.00",
            "discount_percent": "7.50",
        },
    )

    gold.refresh_from_db()
    assert (gold.min_spend, gold.offer.benefit.value) == (Decimal("900.00"), Decimal("7.50"))


def test_reading_the_earning_rule_writes_nothing_and_the_service_creates_it_once():
    EarningRule.objects.all().delete()

    rule = earning_rule()

    assert rule.pk == 1 and rule._state.adding
    assert rule.signup_bonus == EarningRule._meta.get_field("signup_bonus").default
    assert EarningRule.objects.count() == 0
    assert earning_rule_ensure().pk == earning_rule_ensure().pk == 1
    assert EarningRule.objects.count() == 1
    assert earning_rule()._state.adding is False
