"""Loyalty data: members, the points ledger, lots, pending earns and earning rules.

The ledger's invariants live in the database so that no second process can skip them:
a member's balance is never negative (CHECK), entries are append-only (triggers in
migration 0002), idempotency keys are unique, and financial history is PROTECTed.
Only loyalty.services.ledger writes Member.balance, PointsEntry, PointsLot and PendingEarn.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    BRONZE = "bronze", _("Bronze")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")


class Member(models.Model):
    """A customer enrolled in the programme, with balances cached from the ledger."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loyalty_member"
    )
    # Ten digits with a Luhn check digit: typed at the counter, so typos are caught.
    number = models.CharField(_("member number"), max_length=10, unique=True)
    referral_code = models.CharField(_("referral code"), max_length=12, unique=True)
    # Cached sum of the member's entries; written only under the member's row lock.
    balance = models.IntegerField(_("balance"), default=0)
    # Cached sum of the member's open pending earns (not spendable yet).
    pending = models.IntegerField(_("pending points"), default=0)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.BRONZE)
    tier_since = models.DateTimeField(_("tier since"), default=timezone.now)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="loyalty_member_balance_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(pending__gte=0), name="loyalty_member_pending_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.user})"


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    BONUS = "bonus", _("Bonus")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    REVERSAL = "reversal", _("Reversed")
    ADJUST = "adjust", _("Adjusted by staff")
    # The member erased their account: what was left of their points is gone.
    FORFEIT = "forfeit", _("Forfeited")
    # Points given to or received from another member (loyalty.services.gifts, R23).
    GIFT_SENT = "gift_out", _("Gift sent")
    GIFT_RECEIVED = "gift_in", _("Gift received")


class PointsEntry(models.Model):
    """One movement of points. Never updated or deleted: corrections are new entries."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    # Signed: credits are positive, debits negative.
    amount = models.IntegerField()
    balance_after = models.IntegerField()
    reason = models.CharField(max_length=255)
    idempotency_key = models.CharField(max_length=150, unique=True)
    # For a reversal, the credit or debit it reverses.
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    # Points a reversal should have taken back but could not, because they were spent.
    shortfall = models.PositiveIntegerField(default=0)
    order = models.ForeignKey(
        "order.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="loyalty_entry_amount_not_0"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="loyalty_entry_balance_after_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.number} {self.amount:+d} {self.kind}"


class PointsLot(models.Model):
    """Points earned together, spent oldest first and expiring together (R22)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="lot")
    earned_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    amount = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    # Set when the "points expiring soon" notice went out, so it goes out once.
    expiry_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["earned_at", "id"]
        indexes = [models.Index(fields=["member", "remaining", "earned_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")),
                name="loyalty_lot_remaining_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.amount} until {self.expires_at}"


class PendingStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


class PendingEarn(models.Model):
    """Points promised for an order, confirmed into the ledger after the return window."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="pending_earns")
    order = models.OneToOneField(
        "order.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(max_length=150, unique=True)
    reason = models.CharField(max_length=255)
    # Points as first computed, and what is left after refunds before confirmation.
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    # The amount the points were computed on, for proportional reversal of refunds.
    base_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    status = models.CharField(
        max_length=10, choices=PendingStatus.choices, default=PendingStatus.PENDING
    )
    confirm_after = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    entry = models.OneToOneField(
        PointsEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="pending_earn"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__lte=F("points")), name="loyalty_pending_remaining_lte_points"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.remaining} {self.status}"


# --- Earning rules and tiers (edited by marketers in the dashboard) ----------------------


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


# --- Points adjusted by staff at the member counter ---------------------------------------


class AdjustmentDirection(models.TextChoices):
    AWARD = "award", _("Award points")
    DEDUCT = "deduct", _("Take points")


class AdjustmentCategory(models.TextChoices):
    MISSED_EARN = "missed_earn", _("Points missing from a purchase")
    GOODWILL = "goodwill", _("Goodwill gesture")
    CORRECTION = "correction", _("Correction of an earlier mistake")
    USED_IN_STORE = "used_in_store", _("Points used in the store")
    OTHER = "other", _("Other (explain in the reason)")


class PointsAdjustment(models.Model):
    """A points adjustment asked for by staff at the member counter.

    Append-only like the ledger (triggers in migration 0005): a row is never updated or
    deleted. One at or below the approval threshold is posted to the ledger at once
    (`entry`); one above it waits for a PointsAdjustmentDecision by a second person.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="adjustments")
    direction = models.CharField(_("action"), max_length=10, choices=AdjustmentDirection.choices)
    points = models.IntegerField(_("points"))
    category = models.CharField(
        _("reason category"), max_length=20, choices=AdjustmentCategory.choices
    )
    reason = models.CharField(_("reason"), max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked by"),
    )
    # The store (an Oscar partner) whose counter it was made at; None for head office.
    partner = models.ForeignKey(
        "partner.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("store"),
    )
    needs_approval = models.BooleanField(_("needs approval"))
    # The form's key: sending the same form twice records one adjustment.
    key = models.CharField(max_length=64, unique=True)
    # The ledger entry, for an adjustment posted at once.
    entry = models.OneToOneField(
        PointsEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    class Meta:
        verbose_name = _("points adjustment")
        verbose_name_plural = _("points adjustments")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("adjust_points", _("Can adjust a member's points at the counter")),
            (
                "approve_points_adjustment",
                _("Can approve or reject another person's points adjustment"),
            ),
        ]
        indexes = [models.Index(fields=["requested_by", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gt=0), name="loyalty_adjustment_points_gt_0"
            ),
            # Waiting for approval means nothing was posted yet; posted at once means it
            # did not need approval.
            models.CheckConstraint(
                condition=Q(needs_approval=True, entry__isnull=True)
                | Q(needs_approval=False, entry__isnull=False),
                name="loyalty_adjustment_posted_unless_approval",
            ),
        ]

    def __str__(self) -> str:
        sign = "+" if self.direction == AdjustmentDirection.AWARD else "-"
        return f"{self.member.number} {sign}{self.points}"

    @property
    def signed_points(self) -> int:
        return self.points if self.direction == AdjustmentDirection.AWARD else -self.points


class PointsAdjustmentDecision(models.Model):
    """A second person's approval or rejection of an adjustment above the threshold.

    Append-only (migration 0005); one per adjustment (UNIQUE). An approval carries the
    ledger entry it posted, a rejection none.
    """

    adjustment = models.OneToOneField(
        PointsAdjustment, on_delete=models.PROTECT, related_name="decision"
    )
    approved = models.BooleanField(_("approved"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    entry = models.OneToOneField(
        PointsEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustment_decision",
    )
    created_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("points adjustment decision")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved=True, entry__isnull=False)
                | Q(approved=False, entry__isnull=True),
                name="loyalty_adjustment_decision_entry_iff_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.adjustment}: {'approved' if self.approved else 'rejected'}"


# --- Rewards and referrals ---------------------------------------------------------------


class RewardKind(models.TextChoices):
    DISCOUNT = "discount", _("Fixed discount")
    FREE_PRODUCT = "free_product", _("Free product")
    FREE_DELIVERY = "free_delivery", _("Free delivery")


class Reward(models.Model):
    """An item of the rewards catalogue, bought with points as a single-use voucher.

    README, "Rewards": `stock` is how many are left (empty: unlimited), taken one at a
    time by a conditional UPDATE that the CHECK below backs, so concurrent redemptions
    never take it below zero; `per_member_limit` caps one member's redemptions; a reward
    is offered only while active and between `valid_from` and `valid_until`.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=RewardKind.choices)
    points_cost = models.PositiveIntegerField(_("points"))
    # The amount off, for a fixed discount.
    value = models.DecimalField(_("value"), max_digits=8, decimal_places=2, null=True, blank=True)
    product = models.ForeignKey(
        "catalogue.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("free product"),
    )
    voucher_valid_days = models.PositiveIntegerField(_("voucher valid for (days)"), default=60)
    is_active = models.BooleanField(_("available"), default=True)
    stock = models.PositiveIntegerField(
        _("left in stock"),
        null=True,
        blank=True,
        help_text=_("How many can still be redeemed. Leave empty for no limit."),
    )
    per_member_limit = models.PositiveIntegerField(
        _("limit per member"),
        null=True,
        blank=True,
        help_text=_("How many times one member may redeem it. Leave empty for no limit."),
    )
    valid_from = models.DateTimeField(_("offered from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("offered until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("reward")
        ordering = ["points_cost", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="loyalty_reward_cost_gt_0"),
            models.CheckConstraint(
                condition=~Q(kind="discount") | Q(value__gt=0), name="loyalty_reward_discount_value"
            ),
            models.CheckConstraint(
                condition=~Q(kind="free_product") | Q(product__isnull=False),
                name="loyalty_reward_free_product",
            ),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="loyalty_reward_stock_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(per_member_limit__isnull=True) | Q(per_member_limit__gt=0),
                name="loyalty_reward_member_limit_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=F("valid_from")),
                name="loyalty_reward_valid_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points_cost})"


class Redemption(models.Model):
    """A reward bought with points: the debit and the member's own voucher."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="redemption")
    voucher = models.OneToOneField(
        "voucher.Voucher", on_delete=models.PROTECT, related_name="loyalty_redemption"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        # The per-member limit counts a member's redemptions of one reward.
        indexes = [models.Index(fields=["member", "reward"], name="loyalty_redemption_member_rwd")]

    def __str__(self) -> str:
        return f"{self.reward} for {self.member.number}"


class Referral(models.Model):
    """A friend who joined with a member's code; the referrer is rewarded once."""

    referrer = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referrals_made")
    # One referral per friend, ever: the database refuses a second one.
    friend = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="referral")
    created_at = models.DateTimeField(default=timezone.now)
    rewarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(referrer=F("friend")), name="loyalty_referral_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referrer.number} -> {self.friend.number}"


class Gift(models.Model):
    """Points one member gave another (R23): one debit and one credit, written together.

    `key` is the idempotency key of the gift; the two ledger entries carry
    `gift:<key>:out` and `gift:<key>:in`. The entries' reasons name nobody (the ledger
    outlives an erased account, README "Erasure"): the page names the other member from
    this row. `message` is free text, blanked when either member is erased.
    """

    sender = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="gifts_sent")
    recipient = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="gifts_received")
    points = models.PositiveIntegerField(_("points"))
    message = models.CharField(_("message"), max_length=200, blank=True)
    key = models.CharField(max_length=100, unique=True)
    debit = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="gift_sent")
    credit = models.OneToOneField(
        PointsEntry, on_delete=models.PROTECT, related_name="gift_received"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("gift of points")
        verbose_name_plural = _("gifts of points")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["sender", "created_at"], name="loyalty_gift_sender_at"),
            models.Index(fields=["recipient", "created_at"], name="loyalty_gift_recipient_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(sender=F("recipient")), name="loyalty_gift_not_to_self"
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="loyalty_gift_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sender_id} -> {self.recipient_id}: {self.points}"


# --- Segments (marketers' audiences) and the statistics they filter on -------------------
# README.md "Segments": the rules language is documented in loyalty/segments.py.


class Segment(models.Model):
    """A saved audience: a tree of AND/OR groups of conditions over members (`rules`).

    `version` is bumped whenever the rules change, so cached memberships (the one-to-one
    offers) are keyed by it and a change is seen at once.
    """

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    rules = models.JSONField(_("rules"), default=dict)
    version = models.PositiveIntegerField(default=1)
    # One-to-one offers: Oscar USER offers given only to the segment's members.
    offers = models.ManyToManyField(
        "offer.ConditionalOffer",
        blank=True,
        related_name="loyalty_segments",
        verbose_name=_("offers for its members"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class MemberStats(models.Model):
    """A member's order history, summed up by the `refresh_member_stats` beat task.

    Frequency is `orders_count` and monetary value is `lifetime_spend` (whole history,
    cancelled orders excluded); the scores are quintiles over all members with orders
    (5: the most recent, most frequent, biggest spenders).
    """

    member = models.OneToOneField(
        Member, primary_key=True, on_delete=models.CASCADE, related_name="stats"
    )
    orders_count = models.PositiveIntegerField(default=0)
    lifetime_spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    # Days between the last order and the last refresh (the query uses last_order_at).
    recency_days = models.PositiveIntegerField(null=True, blank=True)
    recency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    frequency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    monetary_score = models.PositiveSmallIntegerField(null=True, blank=True)
    last_pickup_store = models.ForeignKey(
        "stores.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The language the shop last wrote to the member in (their latest outbox message).
    language = models.CharField(max_length=10, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("member statistics")
        verbose_name_plural = _("member statistics")
        indexes = [
            models.Index(fields=["last_order_at"], name="loyalty_stats_last_order"),
            models.Index(fields=["orders_count"], name="loyalty_stats_orders"),
            models.Index(fields=["lifetime_spend"], name="loyalty_stats_spend"),
            models.Index(
                fields=["recency_score", "frequency_score", "monetary_score"],
                name="loyalty_stats_rfm",
            ),
            models.Index(fields=["language"], name="loyalty_stats_language"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(recency_score__isnull=True) | Q(recency_score__range=(1, 5)))
                & (Q(frequency_score__isnull=True) | Q(frequency_score__range=(1, 5)))
                & (Q(monetary_score__isnull=True) | Q(monetary_score__range=(1, 5))),
                name="loyalty_stats_scores_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.orders_count} orders"


class MemberCategory(models.Model):
    """A category a member bought in (its ancestors included), first and last time."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="categories_bought")
    category = models.ForeignKey("catalogue.Category", on_delete=models.CASCADE, related_name="+")
    first_bought_at = models.DateTimeField()
    last_bought_at = models.DateTimeField()

    class Meta:
        verbose_name = _("category bought")
        verbose_name_plural = _("categories bought")
        constraints = [
            models.UniqueConstraint(fields=["member", "category"], name="loyalty_member_category")
        ]
        indexes = [
            models.Index(fields=["category", "last_bought_at"], name="loyalty_category_last"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} bought in {self.category_id}"


# --- Campaigns (README.md "Campaigns") ---------------------------------------------------


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push notification")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    CANCELLED = "cancelled", _("Cancelled")
    FINISHED = "finished", _("Finished")


class CampaignRewardKind(models.TextChoices):
    NONE = "", _("No reward")
    POINTS = "points", _("Bonus points")
    VOUCHER = "voucher", _("A personal voucher")


class CampaignTrigger(models.TextChoices):
    ONCE = "once", _("Once, at the chosen time")
    BIRTHDAY = "birthday", _("On the member's birthday")
    DAYS_AFTER_LAST_ORDER = "days_after_last_order", _("N days after the last order")
    POINTS_EXPIRING = "points_expiring", _("When points are about to expire")
    FIRST_PICKUP = "first_pickup", _("After the first click & collect pickup")


class Campaign(models.Model):
    """A message to a segment's members on their channels, with an optional reward.

    Only loyalty.services.campaigns changes a campaign once it left the draft status.
    """

    name = models.CharField(_("name"), max_length=100)
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("segment")
    )
    # A list of CampaignChannel values, e.g. ["email", "sms"].
    channels = models.JSONField(_("channels"), default=list)
    control_percent = models.PositiveSmallIntegerField(
        _("control group (%)"),
        default=0,
        validators=[MaxValueValidator(50)],
        help_text=_("Members kept out of the sending to measure its effect (0 to 50 %)."),
    )
    reward_kind = models.CharField(
        _("reward"),
        max_length=10,
        choices=CampaignRewardKind.choices,
        default=CampaignRewardKind.NONE,
        blank=True,
    )
    reward_points = models.PositiveIntegerField(_("bonus points"), default=0)
    reward_offer = models.ForeignKey(
        "offer.ConditionalOffer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loyalty_campaigns",
        verbose_name=_("voucher offer"),
    )
    # The Oscar VoucherSet holding the members' personal vouchers (made at launch).
    voucher_set = models.OneToOneField(
        "voucher.VoucherSet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loyalty_campaign",
    )
    trigger = models.CharField(
        _("when"), max_length=25, choices=CampaignTrigger.choices, default=CampaignTrigger.ONCE
    )
    trigger_days = models.PositiveIntegerField(_("days"), null=True, blank=True)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    utm_campaign = models.SlugField(_("UTM campaign"), max_length=60, unique=True)
    # README.md "Attribution": an order is credited to touchpoints at most this long before it.
    attribution_window_days = models.PositiveSmallIntegerField(
        _("conversion window (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_(
            "An order counts for the campaign if placed within this many days of a message."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    # When the last send batch ran: the sweeper restarts a chain that stopped (worker killed).
    last_batch_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "send_at"], name="loyalty_campaign_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(control_percent__gte=0) & Q(control_percent__lte=50),
                name="loyalty_campaign_control_0_50",
            ),
            models.CheckConstraint(
                condition=~Q(reward_kind="points") | Q(reward_points__gt=0),
                name="loyalty_campaign_points_reward",
            ),
            models.CheckConstraint(
                condition=~Q(reward_kind="voucher") | Q(reward_offer__isnull=False),
                name="loyalty_campaign_voucher_reward",
            ),
            models.CheckConstraint(
                condition=~Q(trigger="days_after_last_order") | Q(trigger_days__gte=1),
                name="loyalty_campaign_trigger_days",
            ),
            models.CheckConstraint(
                condition=Q(attribution_window_days__gte=1) & Q(attribution_window_days__lte=90),
                name="loyalty_campaign_window_1_90",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_triggered(self) -> bool:
        return self.trigger != CampaignTrigger.ONCE


class CampaignMessage(models.Model):
    """What a campaign says in one language; tokens such as {{ first_name }} are filled in
    per member (loyalty.services.campaigns.TOKENS)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("email subject"), max_length=200, blank=True)
    body = models.TextField(_("email text"), blank=True)
    sms_text = models.CharField(_("SMS text"), max_length=300, blank=True)
    push_title = models.CharField(_("push title"), max_length=100, blank=True)
    push_body = models.CharField(_("push text"), max_length=250, blank=True)
    link_url = models.CharField(
        _("link"),
        max_length=300,
        blank=True,
        help_text=_("A page of this shop, such as /catalogue/ (tracked, with UTM tags)."),
    )

    class Meta:
        verbose_name = _("campaign message")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "language"], name="loyalty_campaign_message_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} ({self.language})"


class CampaignRecipient(models.Model):
    """A member of the campaign's audience, as resolved from its segment (a snapshot).

    The control group is picked by a hash of (campaign, member): resolving again picks the
    same members. `voucher` is the member's personal voucher, made once per occurrence.

    `occurrence` names what made a triggered campaign select the member ("" for a "once"
    campaign): the year of a birthday, the day of the last order, the points lot about to
    expire. A member is a recipient once per occurrence (README.md "Campaigns").
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="recipients")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    occurrence = models.CharField(max_length=40, blank=True, default="")
    is_control = models.BooleanField(_("control group"), default=False)
    resolved_at = models.DateTimeField(default=timezone.now)
    voucher = models.OneToOneField(
        "voucher.Voucher",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loyalty_campaign_recipient",
    )

    class Meta:
        verbose_name = _("campaign recipient")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member", "occurrence"], name="loyalty_recipient_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.member_id}{' (control)' if self.is_control else ''}"


class CampaignSendStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for delivery")
    SENT = "sent", _("Sent")
    SKIPPED_NO_CONSENT = "skipped_no_consent", _("Not sent: no consent")
    SKIPPED_UNREACHABLE = "skipped_unreachable", _("Not sent: no address")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignSend(models.Model):
    """The campaign's message to one member on one channel: at most one per occurrence
    (CampaignRecipient.occurrence; a "once" campaign has the one occurrence "") (R28)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sends")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=CampaignChannel.choices)
    occurrence = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=20, choices=CampaignSendStatus.choices)
    outbox_message = models.ForeignKey(
        "communication.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    voucher = models.ForeignKey(
        "voucher.Voucher", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reward_entry = models.ForeignKey(
        PointsEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("campaign send")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member", "channel", "occurrence"],
                name="loyalty_campaign_send_unique",
            )
        ]
        indexes = [models.Index(fields=["campaign", "status"], name="loyalty_send_status")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.member_id}/{self.channel}: {self.status}"


class UtmLanding(models.Model):
    """A shopper arrived on a page of the shop from an address carrying a campaign's UTM
    tags (a poster's QR code, a social post, a forwarded link): a touchpoint of the
    campaign for attribution (README.md "Attribution"). One row per customer, campaign and
    day, the first landing of that day; a landing before signing in is kept in the session
    and written at sign-in. No address, user agent or query string is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="utm_landings"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="landings")
    day = models.DateField()
    landed_at = models.DateTimeField()
    source = models.CharField(max_length=60, blank=True)
    medium = models.CharField(max_length=60, blank=True)
    path = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("UTM landing")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "campaign", "day"], name="loyalty_utm_landing_daily"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "landed_at"], name="loyalty_utm_landing_campaign")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.user_id}: {self.day}"


# Registered with the models so that its (table-less) proxy has a migration.
from loyalty.offers import RedeemedByBasketOwnerCondition  # noqa: E402, F401

# --- Recommendations (README.md "Recommendations") ---------------------------------------
# Written only by loyalty.services.recommendations (the beat job), read by
# loyalty.recommendations. Products are canonical: a variant counts as its parent.


class ProductPair(models.Model):
    """`other` was in `times` orders that also held `product` (cancelled orders excluded);
    only each product's strongest partners are kept."""

    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    times = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("product bought together")
        verbose_name_plural = _("products bought together")
        constraints = [
            models.UniqueConstraint(fields=["product", "other"], name="loyalty_pair_unique"),
            models.CheckConstraint(
                condition=~Q(product=F("other")), name="loyalty_pair_two_products"
            ),
        ]
        indexes = [models.Index(fields=["product", "-times"], name="loyalty_pair_strongest")]

    def __str__(self) -> str:
        return f"{self.product_id} + {self.other_id}: {self.times}"


class ProductOrders(models.Model):
    """How many orders (cancelled ones excluded) hold the product: its popularity."""

    product = models.OneToOneField(
        "catalogue.Product", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    orders = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("product popularity")
        verbose_name_plural = _("product popularity")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.orders} orders"


class RecommendationReason(models.TextChoices):
    BOUGHT_TOGETHER = "together", _("Bought together")
    CATEGORY = "category", _("Category affinity")


class MemberRecommendation(models.Model):
    """A product for a member, with why: bought together with `via_product` (`times`
    orders held both), or popular in `via_category`, where the member bought `times` times.
    `position` 1 is the strongest."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="recommendations")
    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=10, choices=RecommendationReason.choices)
    score = models.PositiveIntegerField()
    via_product = models.ForeignKey(
        "catalogue.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    via_category = models.ForeignKey(
        "catalogue.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    times = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [
            models.UniqueConstraint(fields=["member", "product"], name="loyalty_rec_unique"),
            models.UniqueConstraint(fields=["member", "position"], name="loyalty_rec_position"),
            models.CheckConstraint(
                condition=(
                    Q(reason="together", via_product__isnull=False, via_category__isnull=True)
                    | Q(reason="category", via_product__isnull=True, via_category__isnull=False)
                ),
                name="loyalty_rec_reason_has_its_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.product_id} #{self.position}"


class RecommendationRun(models.Model):
    """One run of the recommendation job: what it recomputed and how long it took. The
    next incremental run reads orders placed or changed since the last run's start."""

    started_at = models.DateTimeField()
    full = models.BooleanField(default=False)
    since = models.DateTimeField(null=True, blank=True)
    products = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("recommendation run")
        verbose_name_plural = _("recommendation runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({self.products} products, {self.members})"


# Gift links live in their own module (the models above are all it needs); imported here so
# Django registers them with the app and `from loyalty.models import GiftLink` works.
from loyalty.gift_link_models import GiftLink, GiftLinkStatus  # noqa: E402, F401
