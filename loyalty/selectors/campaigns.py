"""Campaigns with their counts, for the marketers' list."""

from __future__ import annotations

from django.db.models import Count, QuerySet


def campaigns_with_counts() -> QuerySet:
    """Campaigns, newest first, each with `audience_count`, `messaged_count`,
    `opened_count` and `clicked_count` (rows, as campaign_counts counts them): one query."""
    from django.db.models import IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from loyalty.models import Campaign, CampaignRecipient, CampaignSend, CampaignSendStatus

    def counted(queryset) -> Coalesce:
        rows = queryset.filter(campaign=OuterRef("pk")).order_by().values("campaign")
        return Coalesce(
            Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
        )

    sends = CampaignSend.objects.all()
    return Campaign.objects.select_related("segment").annotate(
        audience_count=counted(CampaignRecipient.objects.all()),
        messaged_count=counted(
            sends.filter(
                status__in=[
                    CampaignSendStatus.PENDING,
                    CampaignSendStatus.SENT,
                    CampaignSendStatus.FAILED,
                ]
            )
        ),
        opened_count=counted(sends.filter(opened_at__isnull=False)),
        clicked_count=counted(sends.filter(clicked_at__isnull=False)),
    )
