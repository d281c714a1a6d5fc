"""Settings for the Celery workers the notification tests start on their own Redis.

The test settings, plus: the broker named by NOTIFY_TEST_BROKER_URL (a redis-server the
test owns, so it can stop it) and emails written to files in NOTIFY_TEST_EMAIL_DIR, where
the test reads what the worker really sent, or, with NOTIFY_TEST_SMTP_PORT, sent over SMTP
to the test's server on 127.0.0.1 (what EMAIL_URL=smtp://… configures in production).
"""

import os

from config.settings.test import *  # noqa: F403

CELERY_BROKER_URL = os.environ["NOTIFY_TEST_BROKER_URL"]
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TASK_ALWAYS_EAGER = False
# Unacknowledged tasks of a killed worker come back within seconds, not minutes.
CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
if os.environ.get("NOTIFY_TEST_SMTP_PORT"):
    EMAIL_BACKEND = "shop.communication.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = "127.0.0.1", int(os.environ["NOTIFY_TEST_SMTP_PORT"])
    EMAIL_USE_TLS = EMAIL_USE_SSL = False
    EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ.get("NOTIFY_TEST_EMAIL_DIR", "")
