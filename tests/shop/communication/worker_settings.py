"""Settings for the Celery workers the notification tests start on their own Redis.

The test settings, plus: the broker named by NOTIFY_TEST_BROKER_URL (a redis-server the
test owns, so it can stop it) and emails written to files in NOTIFY_TEST_EMAIL_DIR, where
the test reads what the worker really sent.
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
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("NOTIFY_TEST_EMAIL_DIR", "")
