"""Request budgets for the API (README "API"): per signed-in user, per client IP, and a
smaller one for token requests. Counted in the default cache (Redis in production) under
RATELIMIT_CACHE_PREFIX, beside the site's other rate limits (R37); the client IP is
shop.security.client_ip's, as for the login lockout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from shop.security.client_ip import client_ip

if TYPE_CHECKING:  # DRF's views import these classes from the settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _Throttle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # Read when a request is counted, not when DRF was imported: settings can change.
        rate = api_settings.DEFAULT_THROTTLE_RATES[str(self.scope)]
        return str(rate) if rate is not None else None

    def get_ident(self, request: Request) -> str:
        return client_ip(request._request)

    def _counter(self, ident: str) -> str:
        return f"{settings.RATELIMIT_CACHE_PREFIX}api:{self.scope}:{ident}"


class UserThrottle(_Throttle):
    """Each signed-in user's requests (anonymous requests are counted by IPThrottle)."""

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self._counter(str(request.user.pk))


class IPThrottle(_Throttle):
    """Every request from one client IP, signed in or not."""

    scope = "ip"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self._counter(self.get_ident(request))


class AuthThrottle(_Throttle):
    """Token requests (sign-in, refresh) from one client IP: guessing passwords or
    replaying tokens costs time, on top of the login lockout (R36)."""

    scope = "auth"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self._counter(self.get_ident(request))
