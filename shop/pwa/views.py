"""Web app manifest and offline page (README "Install on a phone (PWA)").

Both are public: anyone may read them, signed in or not, and they show nothing about the
visitor (the offline page is precached by the service worker for whoever installs it).
"""

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

THEME_COLOUR = "#0b6e69"  # the logo's teal (shop/static/shop/img/favicon.svg)
BACKGROUND_COLOUR = "#ffffff"


@require_safe
def manifest(request: HttpRequest, language: str) -> JsonResponse:
    """The web app manifest in `language` (one of settings.LANGUAGES): names, start page and
    shortcuts in that language. Public."""
    if language not in dict(settings.LANGUAGES):
        raise Http404
    with translation.override(language):
        shop_name = settings.OSCAR_SHOP_NAME
        shortcut_icon = [{"src": static("shop/pwa/icon-192.png"), "sizes": "192x192"}]
        data = {
            # One app whichever language it was installed in.
            "id": "/",
            "name": _("%(shop)s: order and pick up in store") % {"shop": shop_name},
            "short_name": shop_name,
            "description": str(settings.OSCAR_SHOP_TAGLINE),
            "lang": language,
            "dir": "ltr",
            "start_url": reverse("home"),
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "theme_color": THEME_COLOUR,
            "background_color": BACKGROUND_COLOUR,
            "icons": [
                {"src": static("shop/pwa/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("shop/pwa/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {
                    "src": static("shop/pwa/icon-maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
            "shortcuts": [
                {
                    "name": _("Stores"),
                    "url": reverse("stores:locator"),
                    "icons": shortcut_icon,
                },
                {
                    "name": _("My orders"),
                    "url": reverse("customer:order-list"),
                    "icons": shortcut_icon,
                },
                {
                    "name": _("Member card"),
                    "url": reverse("loyalty:member"),
                    "icons": shortcut_icon,
                },
            ],
        }
    response = JsonResponse(data, content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


class OfflineView(TemplateView):
    """What a page that could not be loaded shows when the phone is offline. Public; the
    service worker precaches it in every language."""

    template_name = "shop/pwa/offline.html"
