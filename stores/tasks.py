"""Celery entry points: thin wrappers around stores.services."""

from celery import shared_task
from django.utils import timezone

from .services import pickups_sweep


@shared_task(name="stores.tasks.pickups_sweep", acks_late=True, reject_on_worker_lost=True)
def pickups_sweep_task() -> dict[str, int]:
    """Remind, then cancel, uncollected pickups. Idempotent, so it may be redelivered."""
    reminded, cancelled = pickups_sweep(now=timezone.now())
    return {"reminded": reminded, "cancelled": cancelled}
