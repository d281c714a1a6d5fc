"""What the service worker (/sw.js, shop/communication/templates/communication/sw.js) is
told when it is served (README "Install on a phone (PWA)").

The precache list is built here, on each request for /sw.js, through the static files
storage: in production (ManifestStaticFilesStorage) that gives the hashed names from
staticfiles.json, so a new deployment changes /sw.js, the browser installs the new worker
and the old cache is dropped.
"""

import hashlib
import json
import re

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation

# The app shell (what the storefront layout and the offline page load) and the vendored
# files the pages kept offline need (member card, pickup pass, product and store pages).
SHELL_STATIC = (
    "shop/css/bootstrap-oscar.min.css",
    "shop/css/shop.css",
    "shop/js/shop.js",
    "shop/js/pwa.js",
    "shop/img/favicon.svg",
    "shop/pwa/icon-192.png",
    "shop/pwa/apple-touch-icon-180.png",
    "oscar/favicon.ico",
    "oscar/js/jquery/jquery.min.js",
    "oscar/js/bootstrap4/bootstrap.bundle.min.js",
    "oscar/js/oscar/ui.js",
    "loyalty/css/loyalty.css",
    "loyalty/js/share.js",
    "stores/css/stores.css",
    "stores/js/stores.js",
    "stores/vendor/leaflet/leaflet.css",
    "stores/vendor/leaflet/leaflet.js",
    "stores/vendor/leaflet/images/marker-icon.png",
    "stores/vendor/leaflet/images/marker-icon-2x.png",
    "stores/vendor/leaflet/images/marker-shadow.png",
)


def offline_pages() -> dict[str, str]:
    """The offline page's URL in each language."""
    pages = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pages[code] = reverse("pwa-offline")
    return pages


def _prefixes() -> str:
    """The language prefixes of the URLs (none for the default language), as a regex."""
    others = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
    return "(?:(?:" + "|".join(re.escape(code) for code in others) + ")/)?"


def worker_config() -> dict:
    pages = offline_pages()
    static_urls = [static(name) for name in SHELL_STATIC]
    precache = static_urls + list(pages.values())
    version = hashlib.sha256("\n".join(precache).encode()).hexdigest()[:12]
    prefixes = _prefixes()
    return {
        "version": version,
        "precache": precache,
        "offline": pages,
        "defaultLanguage": settings.LANGUAGE_CODE,
        "staticPrefix": settings.STATIC_URL,
        # Kept fresh in the background, served from the cache at once (stale-while-revalidate):
        # product pages (Oscar's /catalogue/<slug>_<pk>/) and store pages (/stores/<slug>/).
        "revalidated": [
            f"^/{prefixes}catalogue/[\\w-]+_\\d+/$",
            f"^/{prefixes}stores/(?!pickups/)[\\w-]+/$",
        ],
        "logout": f"^/{prefixes}accounts/logout/$",
    }


def worker_config_json() -> str:
    """The config as a JavaScript literal (JSON, with "<" escaped so nothing reads as a tag)."""
    return json.dumps(worker_config()).replace("<", "\\u003c")
