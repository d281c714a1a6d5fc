"""Celery through a real worker over real Redis."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from config.celery_app import app
from shop.tasks import HEARTBEAT_CACHE_KEY, heartbeat

pytestmark = [pytest.mark.redis]


def test_task_round_trip_through_a_real_worker(celery_worker_process):
    # Given a worker running in another process, on the same Redis
    cache.delete(HEARTBEAT_CACHE_KEY)
    before = timezone.now()

    # When a task is published and we wait for its result
    result = heartbeat.delay()
    returned = result.get(timeout=30)

    # Then the worker ran it, returned its result through the result backend,
    # and its side effect is visible in the shared cache.
    assert result.successful()
    ran_at = datetime.fromisoformat(returned)
    assert before <= ran_at <= timezone.now() + timedelta(seconds=1)
    assert cache.get(HEARTBEAT_CACHE_KEY) == returned
    assert celery_worker_process.poll() is None


def test_reliability_settings_reach_celery():
    # R26: time limits below the visibility timeout, late ack off by default,
    # only idempotent tasks opt in; short broker timeouts (R25).
    conf = app.conf
    assert conf.task_acks_late is False
    assert conf.task_time_limit == 300
    assert conf.task_soft_time_limit == 240
    assert conf.broker_transport_options["visibility_timeout"] == 3600
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
    assert conf.broker_transport_options["socket_connect_timeout"] == 1.0
    assert conf.broker_connection_timeout == 1.0
    assert conf.worker_prefetch_multiplier == 1
    assert heartbeat.acks_late is True
    assert heartbeat.reject_on_worker_lost is True
    assert "shop-heartbeat" in settings.CELERY_BEAT_SCHEDULE
    assert conf.task_always_eager is False
