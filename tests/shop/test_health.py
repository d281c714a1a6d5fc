import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from shop.tasks import HEARTBEAT_CACHE_KEY, heartbeat
from tests.config.fixtures import manage

pytestmark = pytest.mark.django_db

TOKEN = "t" * 20 + "0123456789ab"  # 32 characters


@pytest.fixture
def health_token(settings):
    settings.HEALTH_TOKEN = TOKEN
    return TOKEN


def body(response) -> dict:
    return json.loads(response.content)


def test_anyone_gets_a_bare_ok_without_the_worker_heartbeat(client, health_token):
    heartbeat.apply().get()

    response = client.get("/health/")

    assert response.status_code == 200
    assert body(response) == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer ",
        "Bearer wrong-token-of-the-same-length-000",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
    ],
)
def test_a_wrong_or_missing_token_gets_the_bare_answer(client, health_token, authorization):
    response = client.get("/health/", HTTP_AUTHORIZATION=authorization)
    assert (response.status_code, body(response)) == (200, {"status": "ok"})


def test_without_a_configured_token_no_bearer_shows_details(client, settings):
    settings.HEALTH_TOKEN = ""
    response = client.get("/health/", HTTP_AUTHORIZATION="Bearer ")
    assert body(response) == {"status": "ok"}


def test_a_signed_in_shopper_gets_the_bare_answer(client):
    client.force_login(get_user_model().objects.create_user("ann", "ann@example.com", "pw"))
    assert body(client.get("/health/")) == {"status": "ok"}


def test_the_token_shows_database_cache_and_the_worker_heartbeat_and_its_age(client, health_token):
    cache.delete(HEARTBEAT_CACHE_KEY)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert body(client.get("/health/", **auth)) == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "worker_heartbeat": None,
        "worker_heartbeat_age_seconds": None,
    }

    beat_at = timezone.now() - dt.timedelta(seconds=90)
    cache.set(HEARTBEAT_CACHE_KEY, beat_at.isoformat(), timeout=None)

    details = body(client.get("/health/", **auth))
    assert details["worker_heartbeat"] == beat_at.isoformat()
    assert 90 <= details["worker_heartbeat_age_seconds"] < 100


def test_staff_see_the_details_signed_in(client):
    staff = get_user_model().objects.create_user("sam", "sam@example.com", "pw", is_staff=True)
    client.force_login(staff)
    ran_at = heartbeat.apply().get()

    details = body(client.get("/health/"))

    assert details["status"] == "ok"
    assert details["worker_heartbeat"] == ran_at
    assert 0 <= details["worker_heartbeat_age_seconds"] < 60


def test_health_refuses_writes(client):
    assert client.post("/health/").status_code == 405


def test_a_short_health_token_stops_start_up():
    result = manage("check", HEALTH_TOKEN="too-short")
    assert result.returncode == 1
    assert "HEALTH_TOKEN must be at least 32 random characters" in result.stderr
