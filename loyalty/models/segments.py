"""Segments (marketers' audiences) and the statistics they filter on.

README.md "Segments": the rules language is documented in loyalty/segments.py.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .points import Member


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
