import json

import pytest
from django.core.cache import cache

from shop.tasks import HEARTBEAT_CACHE_KEY, heartbeat

pytestmark = pytest.mark.django_db


def test_health_reports_database_cache_and_last_worker_heartbeat(client):
    cache.delete(HEARTBEAT_CACHE_KEY)
    assert json.loads(client.get("/health/").content) == {
        "database": "ok",
        "cache": "ok",
        "worker_heartbeat": None,
    }

    ran_at = heartbeat.apply().get()

    response = client.get("/health/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert json.loads(response.content)["worker_heartbeat"] == ran_at


def test_health_refuses_writes(client):
    assert client.post("/health/").status_code == 405
