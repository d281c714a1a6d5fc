"""Recommendations (README.md "Recommendations").

Written only by loyalty.services.recommendations (the beat job), read by
loyalty.recommendations. Products are canonical: a variant counts as its parent.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .points import Member


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
