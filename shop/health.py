"""Liveness and readiness for load balancers and docker compose health checks.

Anyone gets a bare answer: 200 {"status": "ok"} when the database answers, else 503
{"status": "error"}. The details (database, cache, the last Celery worker heartbeat and
its age) are for staff and for monitors that send `Authorization: Bearer <HEALTH_TOKEN>`:
they tell an outsider when workers stop, which is nobody else's business.
"""

import datetime as dt
import hmac
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .tasks import HEARTBEAT_CACHE_KEY


def health_details_allowed(request: HttpRequest) -> bool:
    """A request carrying the HEALTH_TOKEN (compared in constant time), or staff."""
    token = settings.HEALTH_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer":
        return hmac.compare_digest(given.strip().encode(), token.encode())
    try:
        return bool(request.user.is_staff)
    except DatabaseError:
        return False  # who is signed in is read from the database that is down


def _heartbeat_age(heartbeat: object) -> float | None:
    if not isinstance(heartbeat, str):
        return None
    try:
        at = dt.datetime.fromisoformat(heartbeat)
    except ValueError:
        return None
    return round((timezone.now() - at).total_seconds(), 1)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 when it does not; details only when allowed."""
    details: dict[str, Any] = {"database": "ok", "cache": "ok", "worker_heartbeat": None}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        details["database"] = f"error: {exc.__class__.__name__}"
        code = 503
    status = {"status": "ok" if code == 200 else "error"}
    if not health_details_allowed(request):
        return JsonResponse(status, status=code)
    try:
        details["worker_heartbeat"] = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception as exc:
        # A cache outage degrades the shop but does not make it unready.
        details["cache"] = f"error: {exc.__class__.__name__}"
    details["worker_heartbeat_age_seconds"] = _heartbeat_age(details["worker_heartbeat"])
    return JsonResponse({**status, **details}, status=code)
