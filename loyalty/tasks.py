"""Celery tasks of the loyalty programme: thin wrappers around services, run by beat.

Each service is idempotent (keys, statuses), so these may run twice or overlap safely.
"""

from celery import shared_task
from django.utils import timezone

from loyalty.services.earning import (
    birthday_bonuses_award,
    expiry_notices_send,
    pending_confirm_due,
    points_expire_due,
)
from loyalty.services.segments import member_stats_refresh
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
