"""Members and the points ledger: entries, lots and pending earns.

The ledger's invariants live in the database so that no second process can skip them:
a member's balance is never negative (CHECK), entries are append-only (triggers in
migration 0002), idempotency keys are unique, and financial history is PROTECTed.
Only loyalty.services.ledger writes Member.balance, PointsEntry, PointsLot and PendingEarn.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
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
