"""Counts a landing with a campaign's UTM tags on any page of the shop (README.md
"Attribution"); loyalty.services.landings says what is kept and how it stays cheap."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from loyalty.services.landings import utm_landing_from_query, utm_landing_record

# Not shop pages: staff pages, files, machine endpoints. Paths after the language prefix.
IGNORED_PREFIXES = ("dashboard/", "admin/", "static/", "media/", "api/", "health/", "i18n/")


def shop_page(path: str) -> bool:
    """Whether `path` (request.path_info) is a page shoppers land on."""
    relative = path.lstrip("/")
    language = translation.get_language_from_path(path)
    if language and relative.startswith(f"{language}/"):
        relative = relative[len(language) + 1 :]
    for prefix in (*IGNORED_PREFIXES, settings.STATIC_URL.lstrip("/")):
        if relative.startswith(prefix):
            return False
    return True


class UtmLandingMiddleware:
    """After a successful GET whose query string has `utm_campaign`, count the landing for
    the signed-in customer, or keep it in the session until they sign in. Any other
    request is passed through untouched (one dictionary look-up)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "utm_campaign" not in request.GET or request.method != "GET":
            return response
        if response.status_code >= 400 or not shop_page(request.path_info):
            return response
        landing = utm_landing_from_query(request.GET, path=request.path_info)
        if landing is not None:
            utm_landing_record(
                landing=landing, session=request.session, user=getattr(request, "user", None)
            )
        return response
