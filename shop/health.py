"""Liveness and readiness for load balancers and docker compose health checks."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .tasks import HEARTBEAT_CACHE_KEY


@never_cache
@require_GET
def health(request):
    """200 when the database answers; the cache and the last worker heartbeat are reported."""
    status = {"database": "ok", "cache": "ok", "worker_heartbeat": None}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        status["database"] = f"error: {exc.__class__.__name__}"
        code = 503
    try:
        status["worker_heartbeat"] = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception as exc:
        # A cache outage degrades the shop but does not make it unready.
        status["cache"] = f"error: {exc.__class__.__name__}"
    return JsonResponse(status, status=code)
