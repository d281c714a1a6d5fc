import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone


def access_attempts_prune(*, now: dt.datetime | None = None) -> int:
    """Delete failed-login records (username, IP, user agent: personal data) once they can
    no longer lock anyone out: older than the cool-off plus a day. Returns how many."""
    from axes.models import AccessAttempt

    now = now or timezone.now()
    keep = dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME)) + dt.timedelta(
        days=settings.SECURITY_ACCESS_ATTEMPT_DAYS
    )
    deleted, _per_model = AccessAttempt.objects.filter(attempt_time__lt=now - keep).delete()
    return deleted


@shared_task(
    name="shop.security.tasks.prune_access_attempts", acks_late=True, reject_on_worker_lost=True
)
def prune_access_attempts() -> int:
    """Daily, by beat. Idempotent: a repeated run deletes nothing more."""
    return access_attempts_prune()
