"""Rewards and their redemptions, referrals and gifts of points."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .points import Member, PointsEntry


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
