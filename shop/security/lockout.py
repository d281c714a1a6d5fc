"""Login lockout (R36): django-axes, keyed on the username and the client's IP address.

Five failed logins for one username from one address lock that pair out for fifteen
minutes (settings: AXES_*). Oscar's customer login and the Django admin login both go
through django.contrib.auth.authenticate(), which asks LockoutBackend first.

Only who, from where and when is kept: axes would also store the form data of each
failed login, and Oscar's `login-password` field is not one it masks, so typed passwords
(sometimes the right one under a mistyped address) would sit in the database and the
admin. access_attempt_without_form_data() keeps those columns empty.
"""

import datetime as dt
import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def access_attempt_without_form_data(sender, instance: AccessAttempt, **kwargs) -> None:
    """pre_save of axes' AccessAttempt: store no GET or POST data of a failed login.

    Every way axes writes a row (a first failure's create, a later failure's save() that
    appends to the data) goes through save(), so nothing typed is ever written; no
    masking list to keep up with each form's field names.
    """
    instance.get_data = ""
    instance.post_data = ""


class LockoutBackend(AxesStandaloneBackend):
    """Refuses every login attempt of a locked-out username + address; logs nobody in."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        # Oscar's registration signs the new customer in with authenticate() and no
        # request, just after they chose the password; axes would raise there. Every
        # login form passes the request, so nothing that can be guessed at skips this.
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username a login attempt counts against (AXES_USERNAME_CALLABLE).

    What was typed: Oscar's `login-username` (its login form's prefix is "login") or the
    admin's `username`. The POST comes first because after a successful login axes
    passes the account's username, not the email address typed, and the failures to
    forget on success are the typed address's. Lowercased, because Oscar's EmailBackend
    matches addresses without regard to case: otherwise "Ann@x.com" and "ann@x.com"
    would get five tries each.
    """
    value = request.POST.get("login-username", request.POST.get("username"))
    if value is None:
        value = (credentials or {}).get("username")
    return value.strip().lower() if isinstance(value, str) else None


def lockout_retry_at(
    *, username: str | None, ip_address: str, cool_off: dt.timedelta
) -> dt.datetime:
    """When the lockout of `username` from `ip_address` ends: its last failure + cool-off."""
    last_failure = AccessAttempt.objects.filter(username=username, ip_address=ip_address).aggregate(
        last=Max("attempt_time")
    )["last"]
    return (last_failure or timezone.now()) + cool_off


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """The page a locked-out login gets (AXES_LOCKOUT_CALLABLE): 429, and when to retry."""
    retry_at = lockout_retry_at(
        username=login_username(request, credentials),
        # Set on the request by django-axes (AXES_CLIENT_IP_CALLABLE) before it locks out.
        ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        cool_off=get_cool_off(request),
    )
    wait_seconds = max((retry_at - timezone.now()).total_seconds(), 0)
    minutes = max(math.ceil(wait_seconds / 60), 1)
    if request.path_info.startswith("/api/"):
        response = _api_lockout(retry_at, minutes)
        response["Retry-After"] = str(math.ceil(wait_seconds))
        return response
    response = render(
        request,
        "shop/security/locked_out.html",
        {"retry_at": retry_at, "wait_minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(math.ceil(wait_seconds))
    return response


def _api_lockout(retry_at: dt.datetime, minutes: int) -> HttpResponse:
    """The API's answer to a locked-out sign-in: the page's words in its error shape."""
    from shop.api.errors import error_body

    at = time_format(timezone.localtime(retry_at), "TIME_FORMAT")
    message = " ".join(
        (
            _("Too many failed sign-in attempts"),
            ngettext(
                "Please try again in %(minutes)s minute, at %(time)s.",
                "Please try again in %(minutes)s minutes, at %(time)s.",
                minutes,
            )
            % {"minutes": minutes, "time": at},
        )
    )
    return JsonResponse(error_body(code="locked_out", message=message), status=429)
