"""Points adjusted by staff at the member counter, and their decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .points import Member, PointsEntry


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
