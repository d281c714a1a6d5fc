"""Rate limits on guessable codes and on emails to typed addresses (R37), with django-ratelimit.

Counters live in the default cache (Redis in production, shared by every process) in
fixed windows. An attempt over a limit gets a 429 page saying when to try again, and the
view does nothing. Where each limit is applied:

- VOUCHER_CODES: POST /basket/vouchers/add/ (shop.security.apps.BasketConfig);
- POINTS_REDEMPTION: POST /checkout/preview/ with action=use_points
  (shop.checkout.views.PaymentDetailsView);
- PICKUP_CODES: a hand-over with the pickup code (stores' dashboard "status" URL, wrapped
  by pickup_hand_over_limited in config/urls.py: stores never imports shop);
- PASSWORD_RESET: POST /password-reset/ (shop.security.apps.OscarShopConfig);
- REGISTRATION: POST /accounts/register/, and the sign-up form of /accounts/login/ (a
  new account gets a welcome email);
- STOCK_ALERTS: POST /accounts/alerts/create/<product>/ by a guest (a confirmation email
  to the address typed; a signed-in customer's alert sends none and is not counted).
  Both in shop.security.apps.OscarShopConfig, around Oscar's customer app's views.

No page sends an SMS on demand (they follow order and pickup events, once each), so
there is no SMS limit to apply.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage


def _reset_email(group: str, request: HttpRequest) -> str:
    # As Oscar's and Django's reset forms look the address up: without regard to case.
    return request.POST.get("email", "").strip().lower()


def _registration_email(group: str, request: HttpRequest) -> str:
    # /accounts/register/ has no form prefix; the login page's sign-up form has "registration".
    value = request.POST.get("email", request.POST.get("registration-email", ""))
    return value.strip().lower()


def _alert_email(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()


@dataclass(frozen=True)
class Limit:
    """`rate` attempts (django-ratelimit's "10/m") per value of each key, for one action."""

    group: str
    rate: str
    keys: tuple[str | Callable[[str, HttpRequest], str], ...]
    message: Promise


VOUCHER_CODES = Limit(
    "voucher-codes",
    "10/m",
    ("user_or_ip",),
    _("You have tried too many voucher codes."),
)
POINTS_REDEMPTION = Limit(
    "points-redemption",
    "10/m",
    ("user_or_ip",),
    _("You have changed the points to use too many times."),
)
PICKUP_CODES = Limit(
    "pickup-codes",
    "10/m",
    ("user_or_ip",),
    _("Too many pickup codes have been checked from your account."),
)
# Per address that asks, and per address the email would go to: neither a single
# client nor a crowd of them can flood one mailbox.
PASSWORD_RESET = Limit(
    "password-reset",
    "5/h",
    ("ip", _reset_email),
    _("Too many password reset emails have been requested."),
)


# Each new account gets a welcome email: per address asking and per email address, as for
# password resets. A typo is retried at once, so an address gets a few tries.
REGISTRATION = Limit(
    "registration",
    "10/h",
    ("ip", _registration_email),
    _("Too many accounts have been requested."),
)
# A guest's stock alert sends a confirmation email to whatever address was typed.
STOCK_ALERTS = Limit(
    "stock-alerts",
    "5/h",
    ("ip", _alert_email),
    _("Too many stock alerts have been requested."),
)


def attempt_over_limit(request: HttpRequest, limit: Limit) -> int | None:
    """Count this attempt against `limit`; the seconds until it may be retried if it is
    over the limit for any key, else None. A key function that finds nothing to count by
    (a blank field, which the form refuses anyway) is skipped: all blanks would otherwise
    share one counter."""
    waits = []
    for key in limit.keys:
        if callable(key) and not key(limit.group, request):
            continue
        usage = get_usage(request, group=limit.group, key=key, rate=limit.rate, increment=True)
        if usage is not None and usage["should_limit"]:
            waits.append(max(usage["time_left"], 1))
    return max(waits) if waits else None


def too_many_attempts(
    request: HttpRequest, limit: Limit, *, wait_seconds: int, back_url: str
) -> HttpResponse:
    """The 429 page: what was refused, when to try again, and the way back."""
    response = render(
        request,
        "shop/security/too_many_attempts.html",
        {
            "message": limit.message,
            "wait_minutes": max(math.ceil(wait_seconds / 60), 1),
            "back_url": back_url,
        },
        status=429,
    )
    response["Retry-After"] = str(wait_seconds)
    return response


def refuse_posts_over_limit(
    limit: Limit,
    *,
    back_url_name: str | None = None,
    counts: Callable[[HttpRequest], bool] | None = None,
) -> Callable:
    """View decorator: a POST over `limit` gets the 429 page instead of the view.

    Only the POSTs `counts` accepts are counted (default: all). The page links back to
    `back_url_name`, or to the view's own URL (its GET shows the form again).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" and (counts is None or counts(request)):
                wait = attempt_over_limit(request, limit)
                if wait is not None:
                    back = reverse(back_url_name) if back_url_name else request.path
                    return too_many_attempts(request, limit, wait_seconds=wait, back_url=back)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def urls_with_limit(
    urls: list,
    *,
    name: str,
    limit: Limit,
    back_url_name: str | None = None,
    counts: Callable[[HttpRequest], bool] | None = None,
) -> list:
    """`urls` (an Oscar app's) with the view of the pattern called `name` rate limited."""
    limited = refuse_posts_over_limit(limit, back_url_name=back_url_name, counts=counts)
    found = [p for p in urls if isinstance(p, URLPattern) and p.name == name]
    if len(found) != 1:
        raise LookupError(f"Oscar has no single URL named {name!r} to rate limit.")
    return [
        URLPattern(p.pattern, limited(p.callback), p.default_args, p.name) if p in found else p
        for p in urls
    ]


def _signs_up(request: HttpRequest) -> bool:
    # The login page holds two forms; only its sign-up form creates an account.
    return "registration_submit" in request.POST


def _is_guest(request: HttpRequest) -> bool:
    return not request.user.is_authenticated


def customer_urls_limited(urls: list) -> list:
    """Oscar's customer app's URL patterns, with the views that email an address anyone
    may type limited: sign-up (REGISTRATION) and a guest's stock alert (STOCK_ALERTS)."""
    urls = urls_with_limit(urls, name="register", limit=REGISTRATION)
    urls = urls_with_limit(urls, name="login", limit=REGISTRATION, counts=_signs_up)
    return urls_with_limit(urls, name="alert-create", limit=STOCK_ALERTS, counts=_is_guest)


def pickup_hand_over_limited(urls: list) -> list:
    """stores' dashboard URL patterns, with the hand-over (a pickup code check) limited."""

    def limited(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" and request.POST.get("action") == "collected":
                wait = attempt_over_limit(request, PICKUP_CODES)
                if wait is not None:
                    back = reverse("stores-dashboard:detail", kwargs={"pk": kwargs["pk"]})
                    return too_many_attempts(
                        request, PICKUP_CODES, wait_seconds=wait, back_url=back
                    )
            return view(request, *args, **kwargs)

        return wrapper

    found = [p for p in urls if isinstance(p, URLPattern) and p.name == "status"]
    if len(found) != 1:
        raise LookupError("stores' dashboard has no single URL named 'status' to rate limit.")
    return [
        URLPattern(p.pattern, limited(p.callback), p.default_args, p.name) if p in found else p
        for p in urls
    ]
