"""Production: nothing insecure by default, secrets only from the environment.

Start-up fails with ImproperlyConfigured when SECRET_KEY or ALLOWED_HOSTS is
missing or insecure, or when messages would go to the console (R46: reset links and
pickup codes in the logs); `manage.py check --deploy` passes with no warnings (R33).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, site_url_checked


def _required(name: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in the environment for production.")
    return value


DEBUG = False
# Read by commands that must behave differently on a live shop (seed_demo creates no
# accounts with public passwords here).
IS_PRODUCTION = True

SECRET_KEY = _required("SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for production: use at least 50 random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'."
    )

ALLOWED_HOSTS = [host.strip() for host in _required("ALLOWED_HOSTS").split(",") if host.strip()]
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names, not '*'.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Every link in a message is built from it: a guess (the request's host) could be forged.
SITE_URL = site_url_checked(_required("SITE_URL"))
OSCAR_URL_SCHEMA = SITE_URL.split("://")[0]

# HTTPS everywhere. Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)

# Uploaded thumbnails and templates are cached; errors go to the logs.
TEMPLATES[0]["OPTIONS"]["loaders"] = [  # noqa: F405
    (
        "django.template.loaders.cached.Loader",
        [
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    )
]
TEMPLATES[0]["APP_DIRS"] = False  # noqa: F405

# Payments: a live shop verifies every webhook, talks to Stripe itself, never fakes a card.
if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET:  # noqa: F405
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_SECRET must be set when Stripe keys are (orders are confirmed by webhook)."
    )
if STRIPE_API_BASE:  # noqa: F405
    raise ImproperlyConfigured("STRIPE_API_BASE is for tests and stripe-mock, not production.")
if env.bool("PAYMENT_TEST_METHOD", default=False):
    raise ImproperlyConfigured("PAYMENT_TEST_METHOD is for local demos only, not production.")

# Messages: reset links and pickup codes are for the customer, never for a log (R46).
# The console backends print them where every operator (and log shipper) reads; memory and
# dummy backends silently drop every email. A file sink is the explicit choice for a demo.
_NO_DELIVERY_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "consolemail://",
    "django.core.mail.backends.locmem.EmailBackend": "memorymail://",
    "django.core.mail.backends.dummy.EmailBackend": "dummymail://",
}
if EMAIL_BACKEND in _NO_DELIVERY_EMAIL_BACKENDS:  # noqa: F405
    raise ImproperlyConfigured(
        f"EMAIL_URL must not be {_NO_DELIVERY_EMAIL_BACKENDS[EMAIL_BACKEND]} in production "  # noqa: F405
        "(the default): it would print password reset links and pickup codes or drop them. "
        "Set EMAIL_URL to your mail server, e.g. smtp+tls://user:password@smtp.example.com:587, "
        "or to a file sink for a demo, e.g. filemail:////var/mail/solomo."
    )
if SMS_BACKEND == "console":  # noqa: F405
    raise ImproperlyConfigured(
        "SMS_BACKEND must not be console in production (the default): it writes pickup codes "
        "to the worker log. Set SMS_BACKEND=http with SMS_GATEWAY_URL and SMS_GATEWAY_TOKEN, "
        "or SMS_BACKEND=file with SMS_FILE_PATH for a demo."
    )
