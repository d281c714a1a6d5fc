"""Gift links (R23, docs/guarantees.md): points a member sets aside for whoever accepts first.

The points leave the giver when the link is made (`debit`) and go
either to the member who accepts it (`credit`) or back to the giver when the link is
cancelled or expires (`refund`, a reversal of the debit): never both, and never twice
(the CHECK constraints below, and one idempotency key per movement in the ledger).
Only loyalty.services.gift_links writes these rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .points import Member, PointsEntry


class GiftLinkStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a friend")
    ACCEPTED = "accepted", _("Accepted")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class GiftLink(models.Model):
    """A link worth `points`, made by `sender`, accepted at most once before `expires_at`."""

    sender = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="gift_links")
    points = models.PositiveIntegerField(_("points"))
    message = models.CharField(_("message"), max_length=200, blank=True)
    # The secret in the link's address (secrets.token_urlsafe): whoever has it may accept.
    token = models.CharField(max_length=64, unique=True)
    # The idempotency key of the link's making: a double tap makes one link.
    key = models.CharField(max_length=100, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=GiftLinkStatus.choices, default=GiftLinkStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    # The earliest expiry of the points set aside: they keep it wherever they go (R22).
    points_expire_at = models.DateTimeField(null=True, blank=True)
    debit = models.OneToOneField(
        PointsEntry, on_delete=models.PROTECT, related_name="gift_link_sent"
    )
    recipient = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gift_links_accepted",
    )
    credit = models.OneToOneField(
        PointsEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gift_link_received",
    )
    refund = models.OneToOneField(
        PointsEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gift_link_refunded",
    )
    # When it was accepted, cancelled or expired.
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("gift link")
        verbose_name_plural = _("gift links")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["sender", "created_at"], name="loyalty_giftlink_sender_at"),
            models.Index(fields=["recipient", "closed_at"], name="loyalty_giftlink_recipient"),
            models.Index(fields=["status", "expires_at"], name="loyalty_giftlink_due"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="loyalty_giftlink_points_gt_0"),
            models.CheckConstraint(
                condition=~Q(recipient=F("sender")), name="loyalty_giftlink_not_to_self"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="loyalty_giftlink_expires_after_made",
            ),
            # Each status with exactly the movements it implies: the points went to one
            # place, once.
            models.CheckConstraint(
                condition=Q(
                    status=GiftLinkStatus.OPEN,
                    recipient__isnull=True,
                    credit__isnull=True,
                    refund__isnull=True,
                    closed_at__isnull=True,
                )
                | Q(
                    status=GiftLinkStatus.ACCEPTED,
                    recipient__isnull=False,
                    credit__isnull=False,
                    refund__isnull=True,
                    closed_at__isnull=False,
                )
                | Q(
                    status__in=[GiftLinkStatus.CANCELLED, GiftLinkStatus.EXPIRED],
                    recipient__isnull=True,
                    credit__isnull=True,
                    refund__isnull=False,
                    closed_at__isnull=False,
                ),
                name="loyalty_giftlink_status_movements",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender_id}: {self.points} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == GiftLinkStatus.OPEN
