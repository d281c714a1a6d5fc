"""Settings shared by every environment.

Every knob is read from the environment here, with its default, and nowhere
else. The README's "Environment variables" table mirrors this list:

=============================  ==============================================
Variable                       Default (local / test)
=============================  ==============================================
DJANGO_SETTINGS_MODULE         config.settings.local (manage.py)
SECRET_KEY                     an insecure development key (production: required)
DEBUG                          False (local: True)
ALLOWED_HOSTS                  localhost,127.0.0.1,[::1] (production: required)
DATABASE_URL                   sqlite:///<project>/db.sqlite3
CONN_MAX_AGE                   60 (seconds a database connection is kept)
REDIS_URL                      unset: local-memory cache, Celery tasks in-process
CELERY_TASK_ALWAYS_EAGER       True without REDIS_URL, False with it
SHOP_NAME                      Solomo
SHOP_CURRENCY                  EUR (any ISO 4217 code)
SHOP_COUNTRY                   FR (ISO 3166-1 alpha-2; a new delivery address starts there)
TIME_ZONE                      Europe/Paris
LANGUAGE_CODE                  en
EMAIL_URL                      consolemail:// (see django-environ's email_url)
DEFAULT_FROM_EMAIL             Solomo <shop@localhost>
MEDIA_ROOT                     <project>/media
STATIC_ROOT                    <project>/staticfiles
SERVE_MEDIA                    DEBUG (serve uploaded files from Django)
LOG_LEVEL                      INFO
STORES_SLOT_DAYS               3 (local dates offered for click & collect slots)
STORES_PICKUP_REMIND_DAYS      2 (days after "ready" before an uncollected reminder)
STORES_PICKUP_CANCEL_DAYS      5 (days after "ready" before it is cancelled, stock released)
STORES_STAFF_SET_PRICES        False (store staff may set their store's prices on the Stock page)
LOYALTY_POINTS_EXPIRY_DAYS     365 (days before earned points expire; 0: never)
LOYALTY_EXPIRY_NOTICE_DAYS     30 (days ahead the "points expiring soon" notice is sent)
LOYALTY_RETURN_WINDOW_DAYS     14 (days after an order before its points are confirmed)
STRIPE_SECRET_KEY              unset: card payment hidden (sk_live_... / sk_test_...)
STRIPE_PUBLISHABLE_KEY         unset (pk_live_... / pk_test_..., given to Stripe.js)
STRIPE_WEBHOOK_SECRET          unset (whsec_..., verifies /checkout/stripe/webhook/)
STRIPE_API_BASE                unset: https://api.stripe.com (stripe-mock or a test fake)
STRIPE_TIMEOUT                 10 (seconds per Stripe API request)
STRIPE_MAX_NETWORK_RETRIES     2 (retries of a failed request, same idempotency key)
STRIPE_SHOP_TAG                solomo (metadata on our PaymentIntents; set one per
                               environment when several share a Stripe account)
PAYMENT_HOLD_MINUTES           30 (minutes stock, slot and points are held for an
                               order awaiting card payment before it is cancelled)
PAYMENT_RECONCILE_INTERVAL     600 (seconds between Stripe reconciliation runs)
PAYMENT_TEST_METHOD            False (local settings only: a labelled "test payment"
                               that stands in for cards; refused in production)
LOYALTY_VOID_ORDER_STATUSES    Cancelled (comma-separated order statuses that void points)
LOYALTY_POINT_VALUE            0.01 (money one point is worth when redeemed at checkout;
                               initial value; marketers change it in the dashboard)
LOYALTY_REDEEM_MIN_POINTS      100 (fewest points a checkout may use; initial value;
                               marketers change it in the dashboard)
LOYALTY_REDEEM_MAX_SHARE       0.5 (largest share of the order total points may pay, 0-1;
                               initial value; marketers change it in the dashboard)
LOYALTY_SEGMENT_CACHE_SECONDS  300 (seconds a member's segment membership is cached for
                               one-to-one offers; a change of the segment's rules is seen
                               at once)
LOYALTY_RECOMMENDATION_PAIRS   20 (products kept as "bought together" with each product)
LOYALTY_RECOMMENDATIONS_PER_MEMBER  12 ("for you" products kept per member)
LOYALTY_RECOMMENDATION_CATEGORIES   3 (a member's strongest categories drawn from)
LOYALTY_RECOMMENDATION_CACHE_SECONDS  600 (seconds a shopper's candidate list is cached;
                               a new run of the job is seen at once)
PRODUCT_CARD_CACHE_SECONDS     600 (seconds a rendered product card is cached; a change
                               of the product, its stock or images is seen at once)
NOTIFY_MAX_ATTEMPTS            6 (deliveries tried before a message is a dead letter)
NOTIFY_RETRY_BASE_DELAY        10 (seconds; doubled per attempt, with jitter)
NOTIFY_RETRY_MAX_DELAY         900 (seconds; below CELERY_VISIBILITY_TIMEOUT)
NOTIFY_SWEEP_INTERVAL          30 (seconds between outbox sweeps by beat)
NOTIFY_SWEEP_DELAY             20 (seconds a due message waits before the sweeper re-sends)
NOTIFY_SENDING_LEASE           CELERY_TASK_TIME_LIMIT + 60 (seconds before a claimed
                               message whose worker died may be claimed again)
REDIS_CIRCUIT_SECONDS          5 (seconds a process skips a Redis that timed out: cache, broker)
NOTIFY_BODY_RETENTION_DAYS     30 (days sent/dead message bodies and stored email copies are
                               kept; bodies carrying a secret are erased once sent)
SMS_BACKEND                    console (console, file or http)
SMS_FILE_PATH                  <project>/sms.jsonl (file backend)
SMS_GATEWAY_URL                unset (http backend: JSON POST endpoint, https://...)
SMS_GATEWAY_TOKEN              unset (http backend: sent as a Bearer token)
SMS_SENDER                     SHOP_NAME (sender id shown on phones)
SMS_GATEWAY_TIMEOUT            5 (seconds)
VAPID_PUBLIC_KEY               unset: Web Push off (base64url application server key)
VAPID_PRIVATE_KEY              unset (base64url raw or DER private key)
VAPID_SUBJECT                  mailto: + the DEFAULT_FROM_EMAIL address
PUSH_TIMEOUT                   5 (seconds)
PUSH_ALLOWED_HOSTS             fcm.googleapis.com,updates.push.services.mozilla.com,
                               *.push.apple.com,*.notify.windows.com (push services a
                               subscription's https endpoint may name; "*." = any subdomain)
MARKETING_POLICY_VERSION       2026-01 (privacy policy version recorded with consent)
MARKETING_QUEUE                marketing (Celery queue of marketing messages; README
                               "Campaigns")
CAMPAIGN_QUEUE                 campaigns (Celery queue of campaign fan-out batches)
MARKETING_SEND_RATE            20 (marketing messages per second, all workers together;
                               0: no limit)
MARKETING_SEND_BURST           MARKETING_SEND_RATE (messages sent at once after a pause)
MARKETING_DELIVERY_CHUNK       20 (marketing messages per delivery task)
LOYALTY_CAMPAIGN_BATCH_SIZE    500 (members per campaign send batch)
LOYALTY_CAMPAIGN_SWEEP_EVERY   60 (seconds between beat runs starting due campaigns)
LOYALTY_CAMPAIGN_STALL_AFTER   120 (seconds without a batch before a fan-out is restarted)
LOYALTY_CAMPAIGN_LINK_DAYS     365 (days unsubscribe and tracking links stay valid)
EMAIL_TIMEOUT                  10 (seconds an SMTP connection may block a worker)
CSP_REPORT_URI                 unset (where browsers POST Content-Security-Policy violations)
SECURITY_ACCESS_ATTEMPT_DAYS   1 (days failed-login records are kept after the cool-off)
TRUSTED_PROXY_COUNT            0 (reverse proxies in front that append to X-Forwarded-For;
                               0: the client IP for lockouts and rate limits is REMOTE_ADDR)
HEALTH_TOKEN                   unset (Bearer token that shows /health/'s details to a
                               monitor; at least 32 characters; staff see them signed in)
SITE_URL                       http://localhost:8000 (production: required) scheme and host
                               of every link in messages; kept in the Sites framework's
                               Site on each migrate
STORES_ARRIVAL_EARLY_MINUTES   30 (minutes before its slot "I'm here" is accepted, while
                               the store is open)
STORES_STATUS_LINK_DAYS        30 (days after the slot a guest's pickup link works)
ACCOUNT_EMAIL_CONFIRM_HOURS    24 (hours the link confirming a new e-mail address works)
ACCOUNT_EMAIL_UNDO_DAYS        7 (days the previous address may undo an e-mail change)
API_ACCESS_TOKEN_MINUTES       5 (minutes an app's access token works; README "API")
API_REFRESH_TOKEN_DAYS         30 (days a refresh token works; each is used once)
API_USER_RATE                  120/min (API requests per signed-in user)
API_IP_RATE                    300/min (API requests per client IP, signed in or not)
API_AUTH_RATE                  10/min (token requests per client IP)
=============================  ==============================================

Bad values stop start-up with an ImproperlyConfigured error naming the variable.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from babel.numbers import list_currencies
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from kombu import Queue
from oscar.defaults import *  # noqa: F403  (Oscar's settings, overridden below)

# Plain names, importing nothing (docs/architecture.md, "Constants"); imported as a
# lower-case module so that its names do not become settings.
from shop import constants as status

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


def _currency_from_env() -> str:
    code = env.str("SHOP_CURRENCY", default="EUR").strip().upper()
    if code not in list_currencies():
        raise ImproperlyConfigured(
            f"SHOP_CURRENCY must be an ISO 4217 currency code such as EUR or GBP, got {code!r}"
        )
    return code


def _country_from_env() -> str:
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
    "oscar.apps.basket.middleware.BasketMiddleware",
    # Last: turns a locked-out login (R36) into its 429 page.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
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

# --- Content-Security-Policy (R34, R35) -------------------------------------------------

# (Not named CSP_*: django-csp 4 reports CSP_* settings as its 3.x configuration.)
_csp_report_uri = env.str("CSP_REPORT_URI", default="")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # Scripts only from our static files, plus inline <script> elements carrying this
        # response's nonce (`nonce="{{ request.csp_nonce }}"`: Oscar's dashboard initialisers).
        # Inline event handlers (onclick=...) and javascript: URLs are refused.
        "script-src": [SELF, NONCE],
        # Stylesheets and <style> elements: ours, or with the nonce.
        "style-src": [SELF, NONCE],
        # style="..." attributes stay allowed: Oscar's templates (basket, checkout, most of
        # the dashboard) and its vendored widgets set them. An attribute cannot run script,
        # and anything it could fetch (a background url()) is still held to img-src.
        "style-src-attr": [UNSAFE_INLINE],
        # The store locator's Leaflet map loads OpenStreetMap tiles (stores.views.OSM_TILES).
        "img-src": [SELF, "data:", "https://tile.openstreetmap.org"],
        "connect-src": [SELF],
        # The web app manifest and the service worker (/sw.js): ours only.
        "manifest-src": [SELF],
        "worker-src": [SELF],
        "frame-src": [NONE],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"report-uri": [_csp_report_uri]} if _csp_report_uri else {}),
    },
}
PAYMENT_PAGE_CSP = {
    "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}
"""What the card payment page adds to CONTENT_SECURITY_POLICY, and no other page.

Stripe origins are allowed only where Stripe.js runs (R34). The payment view
(shop/payment/views.py) opts in with django-csp's decorator, which appends these
sources to the default policy for that response only::

    from csp.decorators import csp_update

    @method_decorator(csp_update(settings.PAYMENT_PAGE_CSP), name="dispatch")
    class PaymentDetailsView(...): ...

and loads ``<script src="https://js.stripe.com/v3/"></script>`` (never bundled or
self-hosted), so the page runs scripts only from self and js.stripe.com (R35);
its own initialisation goes in a static file, with the publishable key and
client secret passed through ``json_script`` or data- attributes. Stripe's
card fields live in iframes from js.stripe.com, 3-D Secure challenges in
iframes from hooks.stripe.com, and Stripe.js calls api.stripe.com (the list in
Stripe's integration security guide; recent versions of that guide also name
https://*.js.stripe.com for script-src and frame-src: add it here if the payment
page's console reports it refused). Everything else (object-src, base-uri,
form-action, frame-ancestors, the nonce) stays as above. form-action 'self' also
stops a form from being redirected to another origin: a flow that needs Stripe's
hosted pages must navigate there from a link or from JavaScript, not from a
form POST's redirect.
"""

# --- Cache and Celery ---------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
# Connect/read timeouts are short so that a dead Redis fails fast instead of
# hanging a request (R25).
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=1.0)
# A hung Redis costs each process one timeout per this many seconds, not one per command.
REDIS_CIRCUIT_SECONDS = env.float("REDIS_CIRCUIT_SECONDS", default=5.0)


def redis_cache(url: str) -> dict:
    """The cache settings for Redis at `url`.

    django-redis, because it can treat a Redis outage as cache misses
    (IGNORE_EXCEPTIONS): pages keep rendering (thumbnails are looked up through
    the cache) instead of failing while Redis is down (R25).
    """
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "solomo",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "IGNORE_EXCEPTIONS": True,
            # After a timeout, skip this Redis for REDIS_CIRCUIT_SECONDS (shop/redis_circuit.py)
            "CONNECTION_POOL_CLASS": "shop.redis_circuit.CircuitConnectionPool",
        },
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "shop.cache"
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions stay in the database: a Redis outage must not log everybody out or
# turn pages into errors.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
# R26: tasks acknowledge on receipt unless a task opts in to acks_late, which
# only idempotent tasks may do (they also set reject_on_worker_lost).
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Hard limit below Redis' visibility timeout, so a message is never redelivered
# while its first run may still be going.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "max_connections": 20,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request gives up quickly; work that must not be lost goes
# through an outbox that a beat task sweeps, never through publish alone.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_WORKER_SEND_TASK_EVENTS = False
# Static beat schedule; tasks are added here by the issues that need them.
CELERY_BEAT_SCHEDULE: dict = {
    "shop-heartbeat": {
        "task": "shop.tasks.heartbeat",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    # Remind, then cancel, click & collect orders left uncollected (stock released).
    "stores-pickups-sweep": {
        "task": "stores.tasks.pickups_sweep",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    # Local inventory feeds (README "Open data for local search"), made again as often as
    # their Cache-Control max-age (15 minutes) lets a reader come back.
    "stores-inventory-feeds": {
        "task": "stores.tasks.inventory_feeds_refresh",
        "schedule": 900.0,
        "options": {"expires": 840},
    },
}

# --- Notifications (shop.communication) ------------------------------------------------

NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=6)
NOTIFY_RETRY_BASE_DELAY = env.float("NOTIFY_RETRY_BASE_DELAY", default=10.0)
NOTIFY_RETRY_MAX_DELAY = env.float("NOTIFY_RETRY_MAX_DELAY", default=900.0)
NOTIFY_SWEEP_INTERVAL = env.float("NOTIFY_SWEEP_INTERVAL", default=30.0)
NOTIFY_SWEEP_DELAY = env.float("NOTIFY_SWEEP_DELAY", default=20.0)
# A claimed message is only taken over once its sender can no longer be running.
NOTIFY_SENDING_LEASE = env.float("NOTIFY_SENDING_LEASE", default=CELERY_TASK_TIME_LIMIT + 60)
if NOTIFY_RETRY_MAX_DELAY >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "NOTIFY_RETRY_MAX_DELAY must be below CELERY_VISIBILITY_TIMEOUT, or Redis would "
        "redeliver retries still waiting for their countdown."
    )
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
if SMS_BACKEND not in {"console", "file", "http"}:
    raise ImproperlyConfigured(f"SMS_BACKEND must be console, file or http, got {SMS_BACKEND!r}")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=BASE_DIR / "sms.jsonl")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_SENDER = env.str("SMS_SENDER", default=env.str("SHOP_NAME", default="Solomo"))
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)
if SMS_BACKEND == "http" and not SMS_GATEWAY_URL:
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL.")
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="")
PUSH_TIMEOUT = env.float("PUSH_TIMEOUT", default=5.0)
# The worker POSTs to whatever endpoint a browser subscribed with: only these push services
# (Chrome and other Chromium browsers via FCM, Firefox, Safari, Edge via Windows), over
# https, at public addresses.
PUSH_ALLOWED_HOSTS = env.list(
    "PUSH_ALLOWED_HOSTS",
    default=[
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "*.push.apple.com",
        "*.notify.windows.com",
    ],
)
# Not from the environment: only tests that deliver to a local fake push service turn it off.
PUSH_ENDPOINT_CHECKS = True
MARKETING_POLICY_VERSION = env.str("MARKETING_POLICY_VERSION", default="2026-01")
# Marketing messages (campaigns) have their own Celery queue, so that order and pickup
# messages never wait behind a campaign; a worker started without -Q consumes both
# (CELERY_TASK_QUEUES), production runs a worker per queue (docker-compose.yml). Their
# provider rate limit is one Redis token bucket for all workers (R29, README "Campaigns").
MARKETING_QUEUE = env.str("MARKETING_QUEUE", default="marketing")
# Campaign fan-out (start and send batches) has a queue of its own as well: a batch never
# waits behind the rate-limited deliveries of the batches before it, so enqueuing a
# campaign is paced by the database, not by MARKETING_SEND_RATE.
CAMPAIGN_QUEUE = env.str("CAMPAIGN_QUEUE", default="campaigns")
MARKETING_SEND_RATE = env.float("MARKETING_SEND_RATE", default=20.0)
MARKETING_SEND_BURST = env.float("MARKETING_SEND_BURST", default=max(1.0, MARKETING_SEND_RATE))
# Marketing messages are published a few to a delivery task (outbox.messages_publish):
# one Celery publish per message would cost a campaign's batch more than its rendering.
MARKETING_DELIVERY_CHUNK = env.int("MARKETING_DELIVERY_CHUNK", default=20)
if MARKETING_DELIVERY_CHUNK < 1:
    raise ImproperlyConfigured("MARKETING_DELIVERY_CHUNK must be at least 1.")
if MARKETING_SEND_RATE < 0 or MARKETING_SEND_BURST < 1:
    raise ImproperlyConfigured(
        "MARKETING_SEND_RATE must be 0 (no limit) or more, MARKETING_SEND_BURST at least 1."
    )
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue(MARKETING_QUEUE), Queue(CAMPAIGN_QUEUE))
CELERY_TASK_ROUTES = {
    "loyalty.tasks.start_campaign": {"queue": CAMPAIGN_QUEUE},
    "loyalty.tasks.send_campaign_batch": {"queue": CAMPAIGN_QUEUE},
}
# Re-sends outbox messages the broker never got (Redis down at commit) or lost.
CELERY_BEAT_SCHEDULE["communication-sweep-outbox"] = {
    "task": "shop.communication.tasks.sweep_outbox",
    "schedule": NOTIFY_SWEEP_INTERVAL,
    "options": {"expires": NOTIFY_SWEEP_INTERVAL},
}
# What messages said is personal data: erased daily once older than this (R46).
NOTIFY_BODY_RETENTION_DAYS = env.int("NOTIFY_BODY_RETENTION_DAYS", default=30)
if NOTIFY_BODY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("NOTIFY_BODY_RETENTION_DAYS must be at least 1 day.")
CELERY_BEAT_SCHEDULE["communication-prune-message-bodies"] = {
    "task": "shop.communication.tasks.prune_message_bodies",
    "schedule": 86400.0,
    "options": {"expires": 80000},
}

# --- Privacy (README "Export", "Erasure", "Retention") -------------------------------------
# Days a customer's data export link works; the zip is deleted afterwards.
PRIVACY_EXPORT_DAYS = env.int("PRIVACY_EXPORT_DAYS", default=7)
if PRIVACY_EXPORT_DAYS < 1:
    raise ImproperlyConfigured("PRIVACY_EXPORT_DAYS must be at least 1 day.")
# Days each delivery attempt (its outcome and provider error) is kept.
PRIVACY_DELIVERY_ATTEMPT_DAYS = env.int("PRIVACY_DELIVERY_ATTEMPT_DAYS", default=90)
# Years a guest order keeps its e-mail and addresses; the order and its amounts stay.
PRIVACY_GUEST_ORDER_YEARS = env.int("PRIVACY_GUEST_ORDER_YEARS", default=3)
if PRIVACY_DELIVERY_ATTEMPT_DAYS < 1 or PRIVACY_GUEST_ORDER_YEARS < 1:
    raise ImproperlyConfigured(
        "PRIVACY_DELIVERY_ATTEMPT_DAYS and PRIVACY_GUEST_ORDER_YEARS must be at least 1."
    )
CELERY_BEAT_SCHEDULE["privacy-prune-personal-data"] = {
    "task": "shop.accounts.tasks.prune_personal_data",
    "schedule": 86400.0,
    "options": {"expires": 80000},
}

# --- Login lockout and rate limits (R36, R37; shop.security) ------------------------------
# The client IP that both count by: REMOTE_ADDR unless TRUSTED_PROXY_COUNT proxies (a load
# balancer, a CDN) each append to X-Forwarded-For; then the entry that many from the right.
# Like TRUST_X_FORWARDED_PROTO it is opt-in: without a proxy that overwrites the header,
# anyone could send a fresh address with every attempt.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or a number of proxies.")
# django-axes: 5 failed logins of one username from one IP lock that pair out for 15 minutes
# (Oscar's customer login, its checkout sign-in and the Django admin alike). Attempts are
# rows in the database, so a lockout survives restarts and a Redis outage. The 15 minutes
# run from the 5th failure: attempts during the lockout do not extend it, so the time the
# page gives holds. Staff can clear a lockout in the admin (Axes > Access attempts).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "shop.security.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "shop.security.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "shop.security.lockout.lockout_response"
# Failures only: a row per successful login would be a log of personal data for nothing.
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner in every manage.py command; failures are still logged (axes logger).
AXES_VERBOSE = False
# django-ratelimit: counters in the default cache, Redis when REDIS_URL is set (shared by
# every process); the demo's local-memory cache counts per process. It is not in
# INSTALLED_APPS: all it would add are system checks that refuse that local-memory cache.
# A Redis outage lets attempts through rather than refusing every voucher and reset (R25);
# logins stay guarded by the lockout, which is in the database.
RATELIMIT_IP_META_KEY = "shop.security.client_ip.client_ip"
RATELIMIT_FAIL_OPEN = True
RATELIMIT_CACHE_PREFIX = "ratelimit:"
# Failed-login records are personal data (username, IP, user agent): kept only this many
# days beyond the cool-off, then deleted by a daily beat task.
SECURITY_ACCESS_ATTEMPT_DAYS = env.int("SECURITY_ACCESS_ATTEMPT_DAYS", default=1)
CELERY_BEAT_SCHEDULE["security-prune-access-attempts"] = {
    "task": "shop.security.tasks.prune_access_attempts",
    "schedule": 86400.0,
    "options": {"expires": 80000},
}
# /health/ answers anyone with a bare {"status": "ok"}; its details (database, cache, the
# worker heartbeat) need a signed-in member of staff or `Authorization: Bearer <HEALTH_TOKEN>`.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
if HEALTH_TOKEN and len(HEALTH_TOKEN) < 32:
    raise ImproperlyConfigured("HEALTH_TOKEN must be at least 32 random characters, or unset.")

# --- E-mail address changes (R39; shop.accounts) ------------------------------------------
ACCOUNT_EMAIL_CONFIRM_HOURS = env.int("ACCOUNT_EMAIL_CONFIRM_HOURS", default=24)
ACCOUNT_EMAIL_UNDO_DAYS = env.int("ACCOUNT_EMAIL_UNDO_DAYS", default=7)
if ACCOUNT_EMAIL_CONFIRM_HOURS < 1 or ACCOUNT_EMAIL_UNDO_DAYS < 1:
    raise ImproperlyConfigured(
        "ACCOUNT_EMAIL_CONFIRM_HOURS and ACCOUNT_EMAIL_UNDO_DAYS must be at least 1."
    )

# --- Email --------------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Plain SMTP: Django's backend with a hook before the DATA phase, where an email may start
# to be delivered (README "Delivery guarantees per channel"). Other backends are Django's.
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":  # noqa: F821
    EMAIL_BACKEND = "shop.communication.smtp.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Solomo <shop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Emails are sent by Celery workers; a hung SMTP server must not hold one until the time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Oscar --------------------------------------------------------------------------------

OSCAR_SHOP_NAME = env.str("SHOP_NAME", default="Solomo")
# Oscar's e-mails build links as OSCAR_URL_SCHEMA://<Site domain><path>; both follow SITE_URL.
OSCAR_URL_SCHEMA = SITE_URL.split("://")[0]
OSCAR_HOMEPAGE = reverse_lazy("home")
OSCAR_SHOP_TAGLINE = _("Buy on your phone, pick up near you")
OSCAR_DEFAULT_CURRENCY = _currency_from_env()
# The shop's country: a new delivery address starts there (shop.checkout).
SHOP_COUNTRY = _country_from_env()
OSCAR_ALLOW_ANON_CHECKOUT = True
OSCAR_ALLOW_ANON_REVIEWS = False
# Reviews wait for a moderator (dashboard, Reviews) before they are published, and only an
# approved review earns loyalty's review bonus (once per review).
OSCAR_MODERATE_REVIEWS = True
OSCAR_PRODUCTS_PER_PAGE = 24
OSCAR_THUMBNAILER = "oscar.core.thumbnails.SorlThumbnail"
OSCAR_FROM_EMAIL = DEFAULT_FROM_EMAIL
OSCAR_REQUIRED_ADDRESS_FIELDS = ("first_name", "last_name", "line1", "line4", "postcode", "country")

# The notification outbox (shop.communication) sits next to Oscar's email templates.
# Its URLs are not an Oscar dashboard app's, so the menu items say who may see them
# (README "Notifications").
OSCAR_DASHBOARD_NAVIGATION = [dict(section) for section in OSCAR_DASHBOARD_NAVIGATION]
for _section in OSCAR_DASHBOARD_NAVIGATION:
    if any(c.get("url_name") == "dashboard:comms-list" for c in _section.get("children", [])):
        _section["children"] = [
            *_section["children"],
            {
                "label": _("Messages"),
                "url_name": "communication:dashboard-list",
                "access_fn": lambda user, *args, **kwargs: user.has_perm(
                    "communication.view_outboxmessage"
                ),
            },
            {
                "label": _("Message templates"),
                "url_name": "communication:dashboard-template-list",
                "access_fn": lambda user, *args, **kwargs: user.has_perm(
                    "communication.change_communicationeventtype"
                ),
            },
        ]

# Dashboard menu per role (README, "Roles and permissions"): Oscar's entries follow their
# app's permissions (shop/dashboard/access.py); store staff, whose dashboard starts on
# their pickup queue (shop/dashboard/views.py), get their store's pages instead of the index.
for _section in OSCAR_DASHBOARD_NAVIGATION:
    if _section.get("url_name") == "dashboard:index":
        _section["access_fn"] = lambda user, *args, **kwargs: user.is_staff


def _store_pages_access(user, *args, **kwargs) -> bool:
    """Who opens stores' dashboard pages (stores/dashboard/views.py: HQ or partner users)."""
    return user.has_perm("partner.dashboard_access") or (
        user.is_staff and user.has_perm("stores.change_pickup")
    )


def _stock_page_access(user, *args, **kwargs) -> bool:
    """Who opens the Stock page (stores.selectors.stockrecords_visible_to): store staff for
    their store, catalogue managers and superusers for every store."""
    return user.has_perm("partner.dashboard_access") or (
        user.is_staff and user.has_perm("partner.change_stockrecord")
    )


OSCAR_DASHBOARD_NAVIGATION.insert(
    1,
    {
        "label": _("My store"),
        "icon": "fas fa-store",
        "access_fn": lambda user, *args, **kwargs: (
            _store_pages_access(user) or _stock_page_access(user)
        ),
        "children": [
            {
                "label": _("Pickups"),
                "url_name": "stores-dashboard:queue",
                "access_fn": _store_pages_access,
            },
            {
                "label": _("Hours and closures"),
                "url_name": "stores-dashboard:stores",
                "access_fn": _store_pages_access,
            },
            {
                "label": _("Stock"),
                "url_name": "stores-dashboard:stock",
                "access_fn": _stock_page_access,
            },
            {
                "label": _("Pickup messages"),
                "url_name": "communication:dashboard-store",
                "access_fn": lambda user, *args, **kwargs: user.has_perm(
                    "partner.dashboard_access"
                ),
            },
        ],
    },
)

# Loyalty's marketer pages; they belong to an Oscar dashboard app, so Oscar's own
# access function checks each page's permissions.
for _section in OSCAR_DASHBOARD_NAVIGATION:
    if any(c.get("url_name") == "dashboard:order-list" for c in _section.get("children", [])):
        _section["children"] = [
            *_section["children"],
            {
                "label": _("Card payments to review"),
                "url_name": "payment-dashboard:review",
                "access_fn": lambda user, *args, **kwargs: user.has_perm(
                    "payment.change_stripepayment"
                ),
            },
        ]
OSCAR_DASHBOARD_NAVIGATION.append(
    {
        "label": _("Loyalty"),
        "icon": "fas fa-star",
        "children": [
            {"label": _("Earning rules"), "url_name": "loyalty_dashboard:loyalty-rules"},
            {"label": _("Multipliers"), "url_name": "loyalty_dashboard:loyalty-multiplier-list"},
            {"label": _("Tiers"), "url_name": "loyalty_dashboard:loyalty-tier-list"},
            {"label": _("Member counter"), "url_name": "loyalty_dashboard:loyalty-counter"},
            {
                "label": _("Adjustments to approve"),
                "url_name": "loyalty_dashboard:loyalty-adjustment-list",
            },
            {"label": _("Counter limits"), "url_name": "loyalty_dashboard:loyalty-counter-limits"},
            {"label": _("Segments"), "url_name": "loyalty_dashboard:loyalty-segment-list"},
            {"label": _("Rewards"), "url_name": "loyalty_dashboard:loyalty-reward-list"},
            {"label": _("Campaigns"), "url_name": "loyalty_dashboard:loyalty-campaign-list"},
            {
                "label": _("Recommendations"),
                "url_name": "loyalty_dashboard:loyalty-recommendations",
            },
        ],
    }
)
OSCAR_DASHBOARD_NAVIGATION.append(
    {
        "label": _("Audit log"),
        "icon": "fas fa-clipboard-list",
        "url_name": "audit:log",
        "access_fn": lambda user, *args, **kwargs: user.is_superuser,
    }
)

# Browsing and search run on the database (shop.search); Haystack stays
# installed because Oscar imports it, but indexes nothing.
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.BaseSignalProcessor"

THUMBNAIL_DEBUG = False
THUMBNAIL_FORMAT = "WEBP"
THUMBNAIL_QUALITY = 80
THUMBNAIL_PRESERVE_FORMAT = False
THUMBNAIL_KVSTORE = "sorl.thumbnail.kvstores.cached_db_kvstore.KVStore"

# --- Stores (click & collect) -------------------------------------------------------------

STORES_SLOT_DAYS = env.int("STORES_SLOT_DAYS", default=3)
STORES_PICKUP_REMIND_DAYS = env.int("STORES_PICKUP_REMIND_DAYS", default=2)
STORES_PICKUP_CANCEL_DAYS = env.int("STORES_PICKUP_CANCEL_DAYS", default=5)
# Per-store prices: off, store staff change only quantities; HQ always sets prices.
STORES_STAFF_SET_PRICES = env.bool("STORES_STAFF_SET_PRICES", default=False)
STORES_ARRIVAL_EARLY_MINUTES = env.int("STORES_ARRIVAL_EARLY_MINUTES", default=30)
STORES_STATUS_LINK_DAYS = env.int("STORES_STATUS_LINK_DAYS", default=30)
if STORES_ARRIVAL_EARLY_MINUTES < 0 or STORES_STATUS_LINK_DAYS < 1:
    raise ImproperlyConfigured(
        "STORES_ARRIVAL_EARLY_MINUTES must be 0 or more, STORES_STATUS_LINK_DAYS 1 or more."
    )
# Orders in these statuses are not shown to store staff yet (awaiting card payment).
STORES_HIDDEN_ORDER_STATUSES = (status.AWAITING_PAYMENT, status.PAYMENT_REVIEW)

# --- Loyalty ------------------------------------------------------------------------------

LOYALTY_POINTS_EXPIRY_DAYS = env.int("LOYALTY_POINTS_EXPIRY_DAYS", default=365)
LOYALTY_EXPIRY_NOTICE_DAYS = env.int("LOYALTY_EXPIRY_NOTICE_DAYS", default=30)
LOYALTY_RETURN_WINDOW_DAYS = env.int("LOYALTY_RETURN_WINDOW_DAYS", default=14)
LOYALTY_VOID_ORDER_STATUSES = env.list("LOYALTY_VOID_ORDER_STATUSES", default=[status.CANCELLED])
if min(LOYALTY_POINTS_EXPIRY_DAYS, LOYALTY_EXPIRY_NOTICE_DAYS, LOYALTY_RETURN_WINDOW_DAYS) < 0:
    raise ImproperlyConfigured("LOYALTY_*_DAYS settings must be zero or more days.")
# Redeeming points at checkout: initial values of the earning rule's redemption fields
# (loyalty.models.EarningRule, when its row is created); marketers change them in the
# dashboard, and loyalty.services.redemption reads them from there.
LOYALTY_POINT_VALUE = Decimal(env.str("LOYALTY_POINT_VALUE", default="0.01"))
LOYALTY_REDEEM_MIN_POINTS = env.int("LOYALTY_REDEEM_MIN_POINTS", default=100)
LOYALTY_REDEEM_MAX_SHARE = Decimal(env.str("LOYALTY_REDEEM_MAX_SHARE", default="0.5"))
if LOYALTY_POINT_VALUE <= 0 or not 0 <= LOYALTY_REDEEM_MAX_SHARE <= 1:
    raise ImproperlyConfigured("LOYALTY_POINT_VALUE must be > 0, LOYALTY_REDEEM_MAX_SHARE 0-1.")
# Loyalty's periodic work; every task is idempotent, so a late or repeated run is harmless.
CELERY_BEAT_SCHEDULE.update(
    {
        "loyalty-confirm-pending-points": {
            "task": "loyalty.tasks.confirm_pending_points",
            "schedule": 3600.0,
            "options": {"expires": 3000},
        },
        "loyalty-expire-points": {
            "task": "loyalty.tasks.expire_points",
            "schedule": 86400.0,
            "options": {"expires": 80000},
        },
        "loyalty-birthday-bonuses": {
            "task": "loyalty.tasks.award_birthday_bonuses",
            "schedule": 86400.0,
            "options": {"expires": 80000},
        },
        "loyalty-review-tiers": {
            "task": "loyalty.tasks.review_tiers",
            "schedule": 86400.0,
            "options": {"expires": 80000},
        },
    }
)
# Segments (README.md "Segments"): member statistics refreshed hourly (incremental); a
# member's one-to-one offer membership is cached this long, and re-read at once when the
# segment's rules change.
LOYALTY_SEGMENT_CACHE_SECONDS = env.int("LOYALTY_SEGMENT_CACHE_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["loyalty-refresh-member-stats"] = {
    "task": "loyalty.tasks.refresh_member_stats",
    "schedule": 3600.0,
    "options": {"expires": 3000},
}
# Campaigns (README.md "Campaigns"): members per send batch; how often beat starts due
# campaigns, restarts stalled fan-outs and copies delivery outcomes; a fan-out whose last
# batch is older than LOYALTY_CAMPAIGN_STALL_AFTER is restarted (a killed worker).
LOYALTY_CAMPAIGN_BATCH_SIZE = env.int("LOYALTY_CAMPAIGN_BATCH_SIZE", default=500)
LOYALTY_CAMPAIGN_SWEEP_EVERY = env.float("LOYALTY_CAMPAIGN_SWEEP_EVERY", default=60.0)
LOYALTY_CAMPAIGN_STALL_AFTER = env.float("LOYALTY_CAMPAIGN_STALL_AFTER", default=120.0)
# Links in campaign messages (unsubscribe, opens, clicks) stay valid this long.
LOYALTY_CAMPAIGN_LINK_DAYS = env.int("LOYALTY_CAMPAIGN_LINK_DAYS", default=365)
if LOYALTY_CAMPAIGN_BATCH_SIZE < 1 or LOYALTY_CAMPAIGN_STALL_AFTER <= 0:
    raise ImproperlyConfigured(
        "LOYALTY_CAMPAIGN_BATCH_SIZE must be at least 1, LOYALTY_CAMPAIGN_STALL_AFTER > 0."
    )
CELERY_BEAT_SCHEDULE["loyalty-campaigns-sweep"] = {
    "task": "loyalty.tasks.sweep_campaigns",
    "schedule": LOYALTY_CAMPAIGN_SWEEP_EVERY,
    "options": {"expires": LOYALTY_CAMPAIGN_SWEEP_EVERY},
}
# Triggered campaigns (birthday, N days after the last order...) add the day's members.
CELERY_BEAT_SCHEDULE["loyalty-campaigns-triggers"] = {
    "task": "loyalty.tasks.resolve_triggered_campaigns",
    "schedule": 3600.0,
    "options": {"expires": 3000},
}

# Recommendations (README.md "Recommendations"): partners kept per product, products kept
# per member, the member's strongest categories drawn from; the beat job runs hourly
# (incremental) and nightly (full); shoppers' candidate lists are cached this long.
LOYALTY_RECOMMENDATION_PAIRS = env.int("LOYALTY_RECOMMENDATION_PAIRS", default=20)
LOYALTY_RECOMMENDATIONS_PER_MEMBER = env.int("LOYALTY_RECOMMENDATIONS_PER_MEMBER", default=12)
LOYALTY_RECOMMENDATION_CATEGORIES = env.int("LOYALTY_RECOMMENDATION_CATEGORIES", default=3)
LOYALTY_RECOMMENDATION_CACHE_SECONDS = env.int("LOYALTY_RECOMMENDATION_CACHE_SECONDS", default=600)
# Seconds a rendered product card is kept (shop/catalogue/cards.py): changes through the
# ORM retire it at once; this bounds what a write bypassing the signals can leave shown.
PRODUCT_CARD_CACHE_SECONDS = env.int("PRODUCT_CARD_CACHE_SECONDS", default=600)
if (
    min(
        LOYALTY_RECOMMENDATION_PAIRS,
        LOYALTY_RECOMMENDATIONS_PER_MEMBER,
        LOYALTY_RECOMMENDATION_CATEGORIES,
    )
    < 1
):
    raise ImproperlyConfigured("LOYALTY_RECOMMENDATION* settings must be at least 1.")
CELERY_BEAT_SCHEDULE["loyalty-refresh-recommendations"] = {
    "task": "loyalty.tasks.refresh_recommendations",
    "schedule": 3600.0,
    "options": {"expires": 3000},
}
CELERY_BEAT_SCHEDULE["loyalty-refresh-recommendations-full"] = {
    "task": "loyalty.tasks.refresh_recommendations",
    "schedule": crontab(hour=3, minute=30),
    "kwargs": {"full": True},
    "options": {"expires": 80000},
}

# --- Logging ------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
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


# --- Payments (shop.payment) -------------------------------------------------------------
# Card payments go through Stripe (PaymentIntents + Payment Element); without both keys
# card payment is hidden and click & collect orders are paid at pickup. Only
# shop/payment/gateway.py imports stripe.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Written on every PaymentIntent; reconciliation only touches PaymentIntents carrying it,
# so shops or environments sharing one Stripe account leave each other's payments alone.
STRIPE_SHOP_TAG = env.str("STRIPE_SHOP_TAG", default="solomo")
# Webhook signatures: older than this, or this far in the future, is refused (R1).
STRIPE_WEBHOOK_TOLERANCE = 300
if bool(STRIPE_SECRET_KEY) != bool(STRIPE_PUBLISHABLE_KEY):
    raise ImproperlyConfigured("Set both STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY, or neither.")
PAYMENT_HOLD_MINUTES = env.int("PAYMENT_HOLD_MINUTES", default=30)
PAYMENT_RECONCILE_INTERVAL = env.float("PAYMENT_RECONCILE_INTERVAL", default=600.0)
PAYMENT_TEST_METHOD = False  # local.py may turn it on; production.py refuses it
if PAYMENT_HOLD_MINUTES < 5:
    raise ImproperlyConfigured("PAYMENT_HOLD_MINUTES must be at least 5 minutes.")

# Order statuses (Oscar's pipeline). A card order waits in "Pending payment" with its stock,
# slot and points held; the payment confirms it ("Pending") or its cancellation releases
# everything ("Cancelled"). A payment whose amount or currency differs is held for review.
# The names are defined once in shop/constants.py (docs/architecture.md, "Constants").
OSCAR_INITIAL_ORDER_STATUS = status.PAID
OSCAR_INITIAL_LINE_STATUS = status.PAID
OSCAR_ORDER_STATUS_PIPELINE = {
    status.AWAITING_PAYMENT: (status.PAID, status.PAYMENT_REVIEW, status.CANCELLED),
    status.PAYMENT_REVIEW: (status.PAID, status.CANCELLED),
    status.PAID: (status.BEING_PROCESSED, status.CANCELLED),
    status.BEING_PROCESSED: (status.COMPLETE, status.CANCELLED),
    status.COMPLETE: (),
    status.CANCELLED: (),
}
OSCAR_LINE_STATUS_PIPELINE = {
    status.PAID: (status.BEING_PROCESSED, status.CANCELLED),
    status.BEING_PROCESSED: (status.COMPLETE, status.CANCELLED),
    status.COMPLETE: (),
    status.CANCELLED: (),
}
OSCAR_ORDER_STATUS_CASCADE = {status.CANCELLED: status.CANCELLED}
CELERY_BEAT_SCHEDULE.update(
    {
        # R5: PaymentIntents and orders that disagree are resolved or flagged to staff;
        # orders awaiting payment longer than PAYMENT_HOLD_MINUTES are released (R15).
        "payment-reconcile": {
            "task": "shop.payment.tasks.payments_reconcile",
            "schedule": PAYMENT_RECONCILE_INTERVAL,
            "options": {"expires": PAYMENT_RECONCILE_INTERVAL * 0.9},
        },
    }
)

# --- API for native apps (shop/api, README "API") ----------------------------------------
# Apps send a short-lived access token (Authorization: Bearer); the site's own scripts use
# the session cookie, with the CSRF token on every unsafe request (DRF's
# SessionAuthentication). Everything needs a signed-in user unless a view says otherwise.
# Throttles count in the default cache (Redis when REDIS_URL is set) by user and by client
# IP (shop.security.client_ip, as the lockout and the rate limits do).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "shop.api.throttles.UserThrottle",
        "shop.api.throttles.IPThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_USER_RATE", default="120/min"),
        "ip": env.str("API_IP_RATE", default="300/min"),
        "auth": env.str("API_AUTH_RATE", default="10/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "shop.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("API_ACCESS_TOKEN_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("API_REFRESH_TOKEN_DAYS", default=30)),
    # Each refresh returns a new refresh token and blacklists the one used: a stolen refresh
    # token works once at most, and its owner's next refresh is refused.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Solomo API",
    "DESCRIPTION": (
        "Catalogue, stores, loyalty, orders and click & collect for the shop's apps. "
        "Errors are {code, message, fields}, in the language of Accept-Language."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
}
