import re
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.http import require_POST
from django.views.static import serve

from shop.accounts.views import PrivacyView
from shop.communication.views import ServiceWorkerView
from shop.payment.webhooks import stripe_webhook
from shop.pwa.views import OfflineView, manifest
from shop.security.ratelimits import pickup_hand_over_limited
from shop.views import CategoriesView, HomeView

if TYPE_CHECKING:
    from oscar.core.application import OscarConfig
from stores.dashboard import urls as stores_dashboard_urls


def oscar_app(label: str) -> "OscarConfig":
    """The installed Oscar app config `label`, whose `urls` Oscar builds."""
    return apps.get_app_config(label)


def _post_only(app_label: str, name: str):
    """The view of an Oscar app's URL `name`, with that app's permission checks, POST only:
    for Oscar views that change state on GET too (R40)."""
    (pattern,) = [p for p in oscar_app(app_label).urls[0] if p.name == name]
    return require_POST(pattern.callback)


# Oscar's error views render its (our mobile) error templates.
handler403 = "oscar.views.handler403"
handler404 = "oscar.views.handler404"
handler500 = "oscar.views.handler500"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("health/", include("shop.health_urls")),
    # At the root so the service worker's scope is the whole site, in every language.
    path("sw.js", ServiceWorkerView.as_view(), name="service-worker"),
    # Outside i18n_patterns: the language is in the name, so a browser's Accept-Language
    # never redirects the manifest of the page's language to another one.
    path("manifest/<str:language>.webmanifest", manifest, name="pwa-manifest"),
    path("api/", include("stores.api.urls")),
    # The API for apps and the site's scripts (README "API"); outside i18n_patterns: its
    # language is the request's Accept-Language (shop/language.py).
    path("api/", include("shop.api.urls")),
    # Signed by Stripe, in no language (R1); must stay outside i18n_patterns.
    path("checkout/stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]

urlpatterns += i18n_patterns(
    path("", HomeView.as_view(), name="home"),
    path("categories/", CategoriesView.as_view(), name="categories"),
    path("offline/", OfflineView.as_view(), name="pwa-offline"),
    path("stores/", include("stores.urls")),
    path("loyalty/", include("loyalty.urls")),
    path("dashboard/loyalty/", oscar_app("loyalty_dashboard").urls),
    # The hand-over checks a pickup code: rate limited (R37) around stores' own view.
    path(
        "dashboard/stores/",
        include(
            (
                pickup_hand_over_limited(stores_dashboard_urls.urlpatterns),
                stores_dashboard_urls.app_name,
            )
        ),
    ),
    path("dashboard/payments/", include("shop.payment.dashboard")),
    path("dashboard/audit/", include("shop.audit.urls")),
    path("", include("shop.communication.urls")),
    # Before Oscar's: the profile edit (e-mail change confirmed by link, R39) and logout
    # (POST only, R40) replace Oscar's views on the same paths.
    path("accounts/", include("shop.accounts.urls")),
    path("privacy/", PrivacyView.as_view(), name="privacy"),
    # Oscar links a user to a partner on GET too (for an "Undo" link, dropped from our
    # copy of its message): before Oscar's route, POST only (R40).
    path(
        "dashboard/partners/<int:partner_pk>/users/<int:user_pk>/link/",
        _post_only("partners_dashboard", "partner-user-link"),
    ),
    path("", include(oscar_app("oscar").urls[0])),
    prefix_default_language=False,
)

if settings.SERVE_MEDIA:
    # The demo and docker compose serve uploads from Django; a real deployment
    # puts MEDIA on object storage or behind the web server (SERVE_MEDIA=False).
    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
