"""Celery entry points: thin wrappers around stores.services."""

from celery import shared_task
from django.utils import timezone

from .feeds import inventory_feeds_refresh
from .services import pickups_sweep


@shared_task(name="stores.tasks.pickups_sweep", acks_late=True, reject_on_worker_lost=True)
def pickups_sweep_task() -> dict[str, int]:
    """Remind, then cancel, uncollected pickups. Idempotent, so it may be redelivered."""
    reminded, cancelled = pickups_sweep(now=timezone.now())
    return {"reminded": reminded, "cancelled": cancelled}


@shared_task(name="stores.tasks.inventory_feeds_refresh")
def inventory_feeds_refresh_task() -> dict[str, int]:
    """Make the stores' local inventory feeds again (README "Open data for local search")."""
    return inventory_feeds_refresh(now=timezone.now())
