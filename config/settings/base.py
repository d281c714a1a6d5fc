"""Settings shared by every environment.

This module puts together the parts of config/settings/ (core, cache, celery,
security, accounts, notifications, oscar, stores, loyalty, payments, beat): each
setting is defined, and each of these variables read from the environment, in
exactly one of those parts. The README's "Environment variables" table mirrors this
list. The environment modules read a few more: production.py requires SECRET_KEY,
ALLOWED_HOSTS and SITE_URL and reads CSRF_TRUSTED_ORIGINS, SECURE_SSL_REDIRECT,
TRUST_X_FORWARDED_PROTO, SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS,
SECURE_HSTS_PRELOAD, SERVE_MEDIA and PAYMENT_TEST_METHOD (to refuse it); test.py
reads SECRET_KEY and MEDIA_ROOT with test defaults and PYTEST_XDIST_WORKER; local.py
reads DEBUG, SERVE_MEDIA and PAYMENT_TEST_METHOD with local defaults.

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
OFFER_CACHE_SECONDS            300 (seconds the site, tier and segment offers are cached
                               for the basket; a change of an offer is seen at once)
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
LOYALTY_GIFT_LINK_DAYS         14 (days a gift link of points may be accepted before its
                               points go back to the giver)
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

from .accounts import *  # noqa: F403
from .api import *  # noqa: F403
from .beat import *  # noqa: F403
from .cache import *  # noqa: F403
from .celery import *  # noqa: F403
from .core import *  # noqa: F403
from .loyalty import *  # noqa: F403
from .notifications import *  # noqa: F403
from .oscar import *  # noqa: F403
from .payments import *  # noqa: F403
from .security import *  # noqa: F403
from .stores import *  # noqa: F403
