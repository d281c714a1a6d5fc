"""Core settings: environment, database, apps, middleware, templates, languages, files,
e-mail and logging. The other parts of config/settings/ import what they need from here."""

from pathlib import Path
from typing import Any

import environ
from babel.numbers import list_currencies
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def _database_from_env() -> dict:
    """Parse DATABASE_URL, failing with a message that names the variable."""
    # An empty value (as docker compose passes for an unset variable) means the default.
    url = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is malformed ({url!r}): {exc}") from exc
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// or sqlite:// URL, got {url!r} "
            f"(engine {engine or 'unknown'!r})"
        )
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"DATABASE_URL has no database name: {url!r}")
    try:
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    except ValueError as exc:
        raise ImproperlyConfigured(f"CONN_MAX_AGE must be an integer: {exc}") from exc
    config["CONN_HEALTH_CHECKS"] = True
    config["ATOMIC_REQUESTS"] = False
    if engine == "django.db.backends.sqlite3":
        # WAL lets the demo's web process read while a task writes.
        config.setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
        config["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    return config


def currency_from_env() -> str:
    code = env.str("SHOP_CURRENCY", default="EUR").strip().upper()
    if code not in list_currencies():
        raise ImproperlyConfigured(
            f"SHOP_CURRENCY must be an ISO 4217 currency code such as EUR or GBP, got {code!r}"
        )
    return code


def country_from_env() -> str:
    code = env.str("SHOP_COUNTRY", default="FR").strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise ImproperlyConfigured(
            f"SHOP_COUNTRY must be an ISO 3166-1 alpha-2 country code such as FR, got {code!r}"
        )
    return code


# --- Core ---------------------------------------------------------------------------------

SECRET_KEY = env.str(
    "SECRET_KEY", default="django-insecure-local-development-key-do-not-use-in-production"
)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
SITE_ID = 1


def site_url_checked(url: str) -> str:
    """SITE_URL as scheme://host[:port] without a trailing slash, or ImproperlyConfigured."""
    from urllib.parse import urlsplit

    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path or parts.query:
        raise ImproperlyConfigured(
            f"SITE_URL must be the shop's address, scheme and host only, such as "
            f"https://shop.example.com; got {url!r}"
        )
    return url


# Links in messages (e-mail, SMS, push) are built from this, never from a request's host.
SITE_URL = site_url_checked(env.str("SITE_URL", default="") or "http://localhost:8000")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {"default": _database_from_env()}

INSTALLED_APPS = [
    # Catalogue text per language (shop/catalogue/translation.py, README "Languages"); before
    # the admin, as django-modeltranslation requires.
    "modeltranslation",
    # Django's admin, for superusers only.
    "shop.security.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.humanize",
    # Oscar's, with the password reset requests rate limited (R37; not a fork).
    "shop.security.apps.OscarShopConfig",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    # Forked: click & collect step, pickup created with the order, pay at pickup.
    "shop.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    # Forked: home delivery and click & collect methods.
    "shop.shipping.apps.ShippingConfig",
    # Forked only to own the migrations of the catalogue's French columns (README "Languages").
    "shop.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    # Forked: Dispatcher writes an outbox; Celery delivers email, SMS and Web Push.
    "shop.communication.apps.CommunicationConfig",
    # Forked: store-aware strategy, no-oversell allocation and stock CHECK.
    "shop.partner.apps.PartnerConfig",
    # Oscar's, with the voucher code checks rate limited (R37; not a fork).
    "shop.security.apps.BasketConfig",
    "shop.payment.apps.PaymentConfig",
    # Forked: Applicator.get_user_offers gives loyalty members their tier's offer.
    "shop.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    # Forked: database-backed browsing and full-text search instead of Haystack.
    "shop.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    # Oscar's dashboard apps with least privilege (shop/dashboard/access.py): each page
    # needs its role's permission, is_staff alone opens only the index, and store staff
    # (partner users) get no catalogue or order pages. Thin configs: no models.
    "shop.dashboard.apps.DashboardConfig",
    "shop.dashboard.reports.apps.ReportsDashboardConfig",
    "shop.dashboard.users.apps.UsersDashboardConfig",
    # Also: a line action posted without its quantity is an error message, not a 500.
    "shop.dashboard.orders.apps.OrdersDashboardConfig",
    # Also: stock edits below the allocated quantity get a form error, not a 500.
    "shop.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "shop.dashboard.offers.apps.OffersDashboardConfig",
    "shop.dashboard.partners.apps.PartnersDashboardConfig",
    "shop.dashboard.pages.apps.PagesDashboardConfig",
    "shop.dashboard.ranges.apps.RangesDashboardConfig",
    "shop.dashboard.reviews.apps.ReviewsDashboardConfig",
    "shop.dashboard.vouchers.apps.VouchersDashboardConfig",
    "shop.dashboard.communications.apps.CommunicationsDashboardConfig",
    "shop.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
    "axes",
    # Ours
    "shop.apps.ShopConfig",
    # Append-only log of staff requests under /dashboard/ and /admin/ (superusers read it).
    "shop.audit.apps.AuditConfig",
    # E-mail changes confirmed by link (R39) and logout by POST (R40) beside Oscar's customer app.
    "shop.accounts.apps.AccountsConfig",
    "loyalty.apps.LoyaltyConfig",
    "loyalty.dashboard.apps.LoyaltyDashboardConfig",
    "stores.apps.StoresConfig",
    # The API for apps and the site's scripts (shop/api, README "API").
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost after security: every response gets the CSP header, static files included.
    "shop.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's LocaleMiddleware; a first visit to an English page by a browser preferring
    # French goes to the French page (README "Languages").
    "shop.language.PreferredLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # X-Viewer on HTML pages: the service worker forgets a previous visitor's pages.
    "shop.pwa.middleware.ViewerMiddleware",
    # Records every POST/PUT/PATCH/DELETE by staff under /dashboard/ and /admin/.
    "shop.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A landing with a campaign's UTM tags is a touchpoint (README.md "Attribution").
    "loyalty.middleware.UtmLandingMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
    # Oscar's, reading the basket's lines and offers once per request (shop/basket_load.py).
    "shop.basket_load.BasketMiddleware",
    # Last: turns a locked-out login (R36) into its 429 page.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Our overrides of Oscar's templates come first.
        "DIRS": [BASE_DIR / "shop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    }
]

AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out logins before any password is checked (R36).
    "shop.security.lockout.LockoutBackend",
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"

# --- Internationalisation -----------------------------------------------------------------

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates and numbers in the British style (config/formats/en), French in the French.
FORMAT_MODULE_PATH = ["config.formats"]
# Product titles and descriptions, category names and descriptions have a column per language;
# an empty translation falls back to English, and an empty English text to French (README
# "Languages").
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("en",), "en": ("fr",)}
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names + gzip/brotli copies; WhiteNoise then sends far-future cache headers.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 31536000


# --- Email --------------------------------------------------------------------------------

# EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER... from one URL.
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
# Plain SMTP: Django's backend with a hook before the DATA phase, where an email may start
# to be delivered (README "Delivery guarantees per channel"). Other backends are Django's.
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    EMAIL_BACKEND = "shop.communication.smtp.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Solomo <shop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Emails are sent by Celery workers; a hung SMTP server must not hold one until the time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)


# --- Logging ------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"redis_skipped": {"()": "shop.redis_circuit.SkippedNotLogged"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "oscar": {"level": LOG_LEVEL},
        # django-redis's ignored errors (DJANGO_REDIS_LOGGER), less the skipped commands
        "shop.cache": {"filters": ["redis_skipped"]},
    },
}
