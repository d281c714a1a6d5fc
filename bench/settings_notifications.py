"""Settings for bench/notifications.py: the test settings on the benchmark's own Redis.

Emails go to Django's local-memory backend inside the worker, so the benchmark measures
our outbox and Celery, not a mail server.
"""

import os

from config.settings.test import *  # noqa: F403

CELERY_BROKER_URL = os.environ["NOTIFY_BENCH_BROKER_URL"]
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
OSCAR_SAVE_SENT_EMAILS_TO_DB = False
LOGGING["root"]["level"] = "ERROR"  # noqa: F405
