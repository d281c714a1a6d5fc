"""Notifications (shop.communication): the outbox, SMS and push providers, marketing
queues and rates."""

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from .celery import CELERY_TASK_TIME_LIMIT, CELERY_VISIBILITY_TIMEOUT
from .core import BASE_DIR, env

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
# What messages said is personal data: erased daily once older than this (R46).
NOTIFY_BODY_RETENTION_DAYS = env.int("NOTIFY_BODY_RETENTION_DAYS", default=30)
if NOTIFY_BODY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("NOTIFY_BODY_RETENTION_DAYS must be at least 1 day.")
