"""Celery tasks of the loyalty programme: thin wrappers around services, run by beat.

Each service is idempotent (keys, statuses), so these may run twice or overlap safely.
"""

import time

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from loyalty.models import Campaign, CampaignStatus
from loyalty.services.campaigns import (
    campaign_audience_resolve,
    campaign_send_batch,
    campaigns_sweep,
    campaigns_triggered_due,
)
from loyalty.services.earning import (
    birthday_bonuses_award,
    expiry_notices_send,
    pending_confirm_due,
    points_expire_due,
)
from loyalty.services.member_stats import member_stats_refresh
from loyalty.services.recommendations import recommendations_refresh
from loyalty.services.tiers import tiers_review_all


@shared_task(acks_late=True, reject_on_worker_lost=True)
def confirm_pending_points() -> int:
    return pending_confirm_due(at=timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_points() -> dict[str, int]:
    now = timezone.now()
    return {"expired": points_expire_due(at=now), "notified": expiry_notices_send(at=now)}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def award_birthday_bonuses() -> int:
    return birthday_bonuses_award(today=timezone.localdate())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def review_tiers() -> int:
    return tiers_review_all(at=timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def refresh_member_stats() -> int:
    """RFM scores and categories bought, which segments filter on."""
    return member_stats_refresh(at=timezone.now())


# --- Campaigns (README.md "Campaigns"): on the marketing queue (CELERY_TASK_ROUTES) -------
# A task killed half-way is redelivered (acks_late) or restarted by the sweep; each batch
# is one transaction and skips members already sent, so nothing is sent twice (R28).


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_campaign(campaign_id: int) -> None:
    """Resolve the audience (once for a "once" campaign), then start the batches."""
    campaign = Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).first()
    if campaign is not None:
        campaign_audience_resolve(campaign=campaign)
        send_campaign_batch.delay(campaign_id, 0)


# Seconds a send_campaign_batch task goes on taking batches before handing on to a new task.
CAMPAIGN_TASK_SECONDS = 10


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_campaign_batch(campaign_id: int, after_member_id: int) -> int | None:
    """Batches one after the other, each its own transaction, for CAMPAIGN_TASK_SECONDS,
    then the next task: a chain that ends when nobody is left. Going on in the same task
    spares each batch a trip through the broker and a wait in the queue (behind delivery
    tasks, on a worker that takes both queues: bench/README.md "campaigns.py"); handing on
    lets other campaigns' batches have their turn."""
    started = time.monotonic()
    last = after_member_id
    while True:
        handled = campaign_send_batch(
            campaign_id=campaign_id,
            after_member_id=last,
            size=settings.LOYALTY_CAMPAIGN_BATCH_SIZE,
        )
        if handled is None:
            return None
        last = handled
        if time.monotonic() - started >= CAMPAIGN_TASK_SECONDS:
            send_campaign_batch.delay(campaign_id, last)
            return last


@shared_task(ignore_result=True)
def sweep_campaigns() -> dict[str, int]:
    result = campaigns_sweep(at=timezone.now())
    for campaign_id in result.to_start:
        start_campaign.delay(campaign_id)
    return {"started": len(result.to_start), "synced": result.synced}


@shared_task(ignore_result=True)
def resolve_triggered_campaigns() -> int:
    """Add each triggered campaign's members of the day; start their batches."""
    campaign_ids = campaigns_triggered_due()
    for campaign_id in campaign_ids:
        start_campaign.delay(campaign_id)
    return len(campaign_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def refresh_recommendations(full: bool = False) -> dict[str, int]:
    """Products bought together and members' "for you" products (README.md
    "Recommendations"): hourly from the orders since the last run, nightly in full."""
    run = recommendations_refresh(at=timezone.now(), full=full)
    return {"products": run.products, "members": run.members}
