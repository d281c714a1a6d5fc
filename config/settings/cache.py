"""The cache (Redis when REDIS_URL is set) and sessions."""

from .core import env

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
