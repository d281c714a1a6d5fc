"""Security: Content-Security-Policy, login lockout, rate limits and the health check's
details (docs/guarantees.md R34-R37)."""

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from .core import env

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
# /health/ answers anyone with a bare {"status": "ok"}; its details (database, cache, the
# worker heartbeat) need a signed-in member of staff or `Authorization: Bearer <HEALTH_TOKEN>`.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
if HEALTH_TOKEN and len(HEALTH_TOKEN) < 32:
    raise ImproperlyConfigured("HEALTH_TOKEN must be at least 32 random characters, or unset.")
