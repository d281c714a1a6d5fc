"""Settings for the test suite.

PostgreSQL and Redis are used when DATABASE_URL and REDIS_URL are set (CI sets
both); otherwise SQLite and in-process tasks, and the tests that need the real
services skip with the reason.
"""

import tempfile

from .base import *  # noqa: F403
from .base import CACHES, LOGGING, REDIS_URL, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="test-only-secret-key-not-for-production-use-0123456789")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=tempfile.mkdtemp(prefix="solomo-test-media-"))
# Tests render pages without running collectstatic first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
SERVE_MEDIA = True
THUMBNAIL_KVSTORE = "sorl.thumbnail.kvstores.cached_db_kvstore.KVStore"
LOGGING["root"]["level"] = "WARNING"

# Parallel test processes (pytest-xdist) each get their own Redis database, so
# a Celery worker started by one process never takes another's tasks.
if REDIS_URL:
    import os
    from urllib.parse import urlsplit, urlunsplit

    # REDIS_URL's own database number is the base: /0 gives 1 (no xdist), 2, 3, ...
    _xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... or unset
    _parts = urlsplit(REDIS_URL)
    _base_db = int(_parts.path.strip("/") or 0)
    _redis_db = _base_db + 1 + (int(_xdist_worker[2:]) + 1 if _xdist_worker.startswith("gw") else 0)
    REDIS_URL = urlunsplit(_parts._replace(path=f"/{_redis_db}"))
    CACHES["default"]["LOCATION"] = REDIS_URL
    CACHES["default"]["KEY_PREFIX"] = f"solomo-test-{_redis_db}"  # noqa: F405
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL

# Threads (live server, concurrency tests) must not keep connections open past
# their work, or the test database cannot be dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
