from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

# shop.security is not an installed app (its AppConfigs are Oscar's, renamed), so Celery's
# autodiscovery does not see its tasks module: registered from here.
from shop.security.tasks import prune_access_attempts  # noqa: E402, F401

HEARTBEAT_CACHE_KEY = "celery:heartbeat"


@shared_task(name="shop.tasks.heartbeat", acks_late=True, reject_on_worker_lost=True)
def heartbeat() -> str:
    """Record that a worker ran a task just now; /health/ reports it.

    Idempotent (it only overwrites a timestamp), so it may be redelivered.
    """
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=None)
    return now
