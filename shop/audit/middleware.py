"""Record every state-changing request by staff under /dashboard/ and /admin/.

Staff are users with is_staff and store staff (the users of an Oscar partner). The row
is written after the response, whatever it is: a form error, a refusal (403), a CSRF
failure, or a view that raised (500). It is written outside the view's transaction, so
a view rolled back still leaves its attempt in the log. Only the names of the fields
sent are kept, never a value, and a password-like field is left out altogether.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse

from shop.audit.models import AuditEvent
from shop.security.client_ip import client_ip

logger = logging.getLogger(__name__)

AUDITED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUDITED_PREFIXES = ("/dashboard/", "/admin/")
# Field names that are never recorded, not even as a name.
SECRET_FIELD_NAME = re.compile(r"pass|pwd|secret|token|csrf|otp", re.IGNORECASE)
MAX_FIELD_NAMES = 100


def audited_path(path: str) -> bool:
    """Whether `path` (with or without a language prefix such as /fr/) is audited."""
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            path = path[len(prefix) - 1 :]
            break
    return path.startswith(AUDITED_PREFIXES)


def _is_staff(user) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or user.partners.exists()


def field_names(request: HttpRequest) -> list[str]:
    """The names of the form fields and files sent, secrets left out, sorted."""
    try:
        names = set(request.POST.keys()) | set(request.FILES.keys())
    except Exception:  # a body the view consumed raw, or one Django cannot parse
        return []
    kept = sorted(name[:100] for name in names if not SECRET_FIELD_NAME.search(name))
    return kept[:MAX_FIELD_NAMES]


def _record(request: HttpRequest, actor, status_code: int) -> None:
    match = getattr(request, "resolver_match", None)
    try:
        with transaction.atomic():
            AuditEvent.objects.create(
                actor=actor,
                method=request.method or "",
                path=request.path[:500],
                view_name=(match.view_name if match else "")[:200],
                object_ids={k: str(v)[:100] for k, v in match.kwargs.items()} if match else {},
                field_names=field_names(request),
                status_code=status_code,
                ip_address=client_ip(request) or None,
            )
    except DatabaseError:
        # The request has already happened; losing its audit row must be loud, not a 500.
        logger.exception("audit event not written: %s %s", request.method, request.path)


class AuditMiddleware:
    """Goes after AuthenticationMiddleware (it needs request.user)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in AUDITED_METHODS or not audited_path(request.path_info):
            return self.get_response(request)
        # Who sent it, read before the view: a logout or login changes request.user.
        actor = request.user if _is_staff(request.user) else None
        if actor is None:
            return self.get_response(request)
        try:
            response = self.get_response(request)
        except Exception:
            _record(request, actor, 500)
            raise
        _record(request, actor, response.status_code)
        return response
