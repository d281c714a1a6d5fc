"""Local development and the `make run` demo: SQLite, in-process tasks unless REDIS_URL is set."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
INTERNAL_IPS = ["127.0.0.1"]
THUMBNAIL_DEBUG = DEBUG
# Without Stripe keys, a clearly labelled test payment stands in for cards so home-delivery
# orders can be demonstrated; it never appears once Stripe is configured, nor in production.
PAYMENT_TEST_METHOD = env.bool("PAYMENT_TEST_METHOD", default=True)
