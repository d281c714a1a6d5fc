"""Settings of the load benchmark (bench/load.py): production's, served over plain HTTP on
loopback. Only what plain HTTP on 127.0.0.1 needs differs from production: cookies without
the Secure flag (a client only sends Secure cookies over HTTPS) and static files without the
manifest (no collectstatic; the load scenario fetches pages, not static files)."""

from config.settings.production import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
