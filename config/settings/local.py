"""Local development and the `make run` demo: SQLite, in-process tasks unless REDIS_URL is set."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
INTERNAL_IPS = ["127.0.0.1"]
THUMBNAIL_DEBUG = DEBUG
