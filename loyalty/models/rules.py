"""Earning rules, multipliers and tiers (edited by marketers in the dashboard)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .points import Tier


class Rounding(models.TextChoices):
    DOWN = "down", _("Round down")
    HALF_UP = "half_up", _("Round to the nearest (half up)")
    UP = "up", _("Round up")


# The redemption rules start from the LOYALTY_POINT_VALUE, LOYALTY_REDEEM_MIN_POINTS and
# LOYALTY_REDEEM_MAX_SHARE settings (when the row is created or the fields were added);
# marketers change them in the dashboard from then on.
def redeem_point_value_initial() -> Decimal:
    return settings.LOYALTY_POINT_VALUE


def redeem_min_points_initial() -> int:
    return settings.LOYALTY_REDEEM_MIN_POINTS


def redeem_max_share_initial() -> Decimal:
    return settings.LOYALTY_REDEEM_MAX_SHARE


class EarningRule(models.Model):
    """The programme's earning and redemption rules: a single row (selectors.earning_rule)."""

    points_per_unit = models.DecimalField(
        _("points per currency unit"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("1.00"),
        help_text=_("Points per unit of currency spent on products (shipping excluded)."),
    )
    rounding = models.CharField(
        _("rounding"), max_length=10, choices=Rounding.choices, default=Rounding.DOWN
    )
    click_collect_bonus = models.PositiveIntegerField(_("click & collect bonus"), default=50)
    signup_bonus = models.PositiveIntegerField(_("sign-up bonus"), default=100)
    first_order_bonus = models.PositiveIntegerField(_("first order bonus"), default=200)
    review_bonus = models.PositiveIntegerField(_("approved review bonus"), default=25)
    birthday_bonus = models.PositiveIntegerField(_("birthday bonus"), default=100)
    referral_welcome_bonus = models.PositiveIntegerField(
        _("referred friend's welcome"), default=100
    )
    referrer_bonus = models.PositiveIntegerField(_("referrer's reward"), default=300)
    referrals_per_year = models.PositiveIntegerField(
        _("rewarded referrals per member and year"), default=10
    )
    # Redeeming at checkout (loyalty.services.redemption).
    point_value = models.DecimalField(
        _("value of one point"),
        max_digits=8,
        decimal_places=4,
        default=redeem_point_value_initial,
        validators=[
            MinValueValidator(
                Decimal("0.0001"),
                message=_(
                    "Enter an amount greater than 0: the money one point pays, "
                    "for example 0.01 so that 100 points pay 1.00."
                ),
            )
        ],
        help_text=_("Money one point pays at checkout: 0.01 means 100 points pay 1.00."),
    )
    redeem_min_points = models.IntegerField(
        _("fewest points per order"),
        default=redeem_min_points_initial,
        validators=[
            MinValueValidator(
                0, message=_("Enter 0 or a positive number of points (0: no minimum).")
            )
        ],
        help_text=_("The fewest points a customer may use on one order; 0 for no minimum."),
    )
    redeem_max_share = models.DecimalField(
        _("largest share paid with points"),
        max_digits=5,
        decimal_places=2,
        default=redeem_max_share_initial,
        validators=[
            MinValueValidator(0, message=_("Enter a share from 0 to 1, for example 0.5 for half.")),
            MaxValueValidator(1, message=_("Enter a share from 0 to 1, for example 0.5 for half.")),
        ],
        help_text=_(
            "The largest share of the order total (tax and shipping included) points may pay, "
            "from 0 to 1: 0.5 is half the order, 0 turns paying with points off."
        ),
    )
    # Points adjusted by staff at the member counter (loyalty.services.adjustments).
    counter_max_points = models.IntegerField(
        _("most points per adjustment"),
        default=500,
        validators=[
            MinValueValidator(1, message=_("Enter a number of points from 1 to 1,000,000.")),
            MaxValueValidator(
                1_000_000, message=_("Enter a number of points from 1 to 1,000,000.")
            ),
        ],
        help_text=_("The most points one counter adjustment may award or take."),
    )
    counter_daily_points = models.IntegerField(
        _("most points per member of staff and day"),
        default=2000,
        validators=[
            MinValueValidator(1, message=_("Enter a number of points from 1 to 10,000,000.")),
            MaxValueValidator(
                10_000_000, message=_("Enter a number of points from 1 to 10,000,000.")
            ),
        ],
        help_text=_(
            "The most points one member of staff may adjust in a day, awarded and taken "
            "together, approved or waiting for approval."
        ),
    )
    counter_approval_threshold = models.IntegerField(
        _("adjustments above this need a second person"),
        default=200,
        validators=[
            MinValueValidator(0, message=_("Enter 0 or a positive number of points.")),
            MaxValueValidator(
                1_000_000, message=_("Enter a number of points from 0 to 1,000,000.")
            ),
        ],
        help_text=_(
            "An adjustment of more points waits until another person allowed to approve "
            "adjustments approves it; 0: every adjustment does."
        ),
    )
    # Gifts of points between members (loyalty.services.gifts, R23), per local day and
    # calendar month; 0 for a day limit turns gifts off.
    gift_sent_daily_points = models.IntegerField(
        _("most points a member may give per day"),
        default=500,
        validators=[MinValueValidator(0, message=_("Enter 0 or a positive number of points."))],
        help_text=_("0 turns gifts between members off."),
    )
    gift_sent_monthly_points = models.IntegerField(
        _("most points a member may give per month"),
        default=2000,
        validators=[MinValueValidator(0, message=_("Enter 0 or a positive number of points."))],
    )
    gift_received_daily_points = models.IntegerField(
        _("most points a member may receive per day"),
        default=1000,
        validators=[MinValueValidator(0, message=_("Enter 0 or a positive number of points."))],
    )
    gift_received_monthly_points = models.IntegerField(
        _("most points a member may receive per month"),
        default=4000,
        validators=[MinValueValidator(0, message=_("Enter 0 or a positive number of points."))],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("earning rule")
        constraints = [
            models.CheckConstraint(
                condition=Q(counter_max_points__gte=1) & Q(counter_max_points__lte=1_000_000),
                name="loyalty_rule_counter_max_points",
            ),
            models.CheckConstraint(
                condition=Q(counter_daily_points__gte=F("counter_max_points"))
                & Q(counter_daily_points__lte=10_000_000),
                name="loyalty_rule_counter_daily_points",
            ),
            models.CheckConstraint(
                condition=Q(counter_approval_threshold__gte=0)
                & Q(counter_approval_threshold__lte=F("counter_max_points")),
                name="loyalty_rule_counter_approval_threshold",
            ),
            models.CheckConstraint(
                condition=Q(points_per_unit__gte=0), name="loyalty_rule_rate_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(point_value__gt=0), name="loyalty_rule_point_value_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(redeem_min_points__gte=0), name="loyalty_rule_redeem_min_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(redeem_max_share__gte=0) & Q(redeem_max_share__lte=1),
                name="loyalty_rule_redeem_max_share_0_1",
            ),
            models.CheckConstraint(
                condition=Q(gift_sent_daily_points__gte=0)
                & Q(gift_sent_monthly_points__gte=0)
                & Q(gift_received_daily_points__gte=0)
                & Q(gift_received_monthly_points__gte=0),
                name="loyalty_rule_gift_limits_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return _("%(rate)s points per unit") % {"rate": self.points_per_unit}


class Multiplier(models.Model):
    """Extra points on the products of a category or a range, e.g. x2 on cheese."""

    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        "catalogue.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("category"),
    )
    range = models.ForeignKey(
        "offer.Range",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("range"),
    )
    factor = models.DecimalField(_("factor"), max_digits=4, decimal_places=2)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("multiplier")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(factor__gt=0), name="loyalty_multiplier_factor_gt_0"
            ),
            # Exactly one target: a category or a range.
            models.CheckConstraint(
                condition=(Q(category__isnull=False) & Q(range__isnull=True))
                | (Q(category__isnull=True) & Q(range__isnull=False)),
                name="loyalty_multiplier_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} x{self.factor}"


class TierLevel(models.Model):
    """What it takes to reach a tier, and what it gives."""

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, unique=True)
    # Reached with either figure over the last 12 months (rolling).
    min_spend = models.DecimalField(
        _("minimum 12-month spend"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    min_points = models.PositiveIntegerField(_("minimum 12-month points"), default=0)
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=Decimal("1.00")
    )
    discount_percent = models.DecimalField(
        _("basket discount (%)"), max_digits=4, decimal_places=2, default=Decimal("0.00")
    )
    offer = models.OneToOneField(
        "offer.ConditionalOffer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="loyalty_tier",
    )

    class Meta:
        verbose_name = _("tier level")
        constraints = [
            models.CheckConstraint(
                condition=Q(points_multiplier__gt=0), name="loyalty_tier_multiplier_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="loyalty_tier_discount_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.get_tier_display()
