"""Celery: broker, results, acknowledgements and time limits (config/celery_app.py reads
the CELERY_ names). The queues are in notifications.py, the beat schedule in beat.py."""

from .cache import REDIS_SOCKET_TIMEOUT, REDIS_URL
from .core import TIME_ZONE, env

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
# R26: tasks acknowledge on receipt unless a task opts in to acks_late, which
# only idempotent tasks may do (they also set reject_on_worker_lost).
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Hard limit below Redis' visibility timeout, so a message is never redelivered
# while its first run may still be going.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "max_connections": 20,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request gives up quickly; work that must not be lost goes
# through an outbox that a beat task sweeps, never through publish alone.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_WORKER_SEND_TASK_EVENTS = False
