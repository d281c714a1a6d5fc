"""JSON API and GeoJSON feed: distance order, open state, stock, bad input, cache headers."""

import datetime as dt

import pytest
from django.urls import reverse

from stores.models import Service
from tests.factories import product
from tests.stores.factories import every_day, exceptional_day, stock, store

pytestmark = pytest.mark.django_db

API = "/api/stores/"


@pytest.fixture
def strasbourg():
    return {
        "centre": store("Centre", lat=48.5819, lng=7.7507, hours=every_day("00:00", "23:59")),
        "krutenau": store("Krutenau", lat=48.5800, lng=7.7590, hours={}),
        "robertsau": store("Robertsau", lat=48.5960, lng=7.7800, hours=every_day()),
    }


def test_urls_are_outside_the_language_prefix():
    assert reverse("stores-api:list") == API
    assert reverse("stores-api:geojson") == "/api/stores.geojson"


def test_list_sorts_by_distance_with_open_state(client, strasbourg):
    response = client.get(API, {"lat": "48.5795", "lng": "7.7600", "limit": "2"})

    assert response.status_code == 200
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    body = response.json()
    assert [s["slug"] for s in body["stores"]] == [
        strasbourg["krutenau"].slug,
        strasbourg["centre"].slug,
    ]
    assert [s["distance_km"] for s in body["stores"]] == [0.092, 0.734]
    assert body["stores"][0]["is_open_now"] is False
    assert body["stores"][0]["next_change"] is None
    assert body["stores"][1]["is_open_now"] is True
    assert body["stores"][1]["next_change"] is not None
    assert "stock" not in body["stores"][0]


def test_list_by_postcode_resolved_offline(client, strasbourg):
    response = client.get(API, {"q": "67300", "limit": "1"})  # Schiltigheim, north

    assert response.status_code == 200
    assert response.json()["origin"] == {"lat": 48.6078, "lng": 7.7497}
    assert [s["slug"] for s in response.json()["stores"]] == [strasbourg["robertsau"].slug]


def test_list_with_a_product_gives_stock_levels(client, strasbourg):
    mug = product("Mug", stock=0)
    stock(strasbourg["robertsau"], mug, 4, allocated=1)

    response = client.get(API, {"lat": "48.58", "lng": "7.75", "product": str(mug.pk)})

    assert [(s["slug"], s["stock"]) for s in response.json()["stores"]] == [
        (strasbourg["robertsau"].slug, {"product": mug.pk, "num_available": 3})
    ]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "give lat and lng, or q"),
        ({"lat": "48.5"}, "lat and lng must be given together"),
        ({"lat": "91", "lng": "7"}, "lat must be between -90 and 90"),
        ({"lat": "48", "lng": "-180.5"}, "lng must be between -180 and 180"),
        ({"lat": "nan", "lng": "7"}, "lat must be between"),
        ({"lat": "abc", "lng": "7"}, "lat must be a number"),
        ({"lat": "48", "lng": "7", "limit": "0"}, "limit must be an integer from 1 to 50"),
        ({"lat": "48", "lng": "7", "limit": "51"}, "limit must be an integer from 1 to 50"),
        ({"lat": "48", "lng": "7", "product": "x"}, "product must be the id of a public product"),
        ({"lat": "48", "lng": "7", "product": "999999"}, "product must be the id"),
        ({"q": "Atlantis"}, "unknown place 'Atlantis'"),
    ],
)
def test_bad_parameters_answer_400_with_a_reason(client, params, reason):
    response = client.get(API, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert reason in response.json()["error"]


def test_post_is_not_allowed(client):
    assert client.post(API, {"lat": "48", "lng": "7"}).status_code == 405


def test_detail_has_week_ahead_and_closures(client, strasbourg):
    shop = strasbourg["robertsau"]
    shop.services = [Service.CLICK_AND_COLLECT, Service.PARKING]
    shop.save()
    in_three_days = dt.date.today() + dt.timedelta(days=3)
    exceptional_day(shop, in_three_days, reason="Inventory")

    response = client.get(f"{API}{shop.slug}/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Robertsau"
    assert [s["code"] for s in body["services"]] == ["click_collect", "parking"]
    assert len(body["week_ahead"]) == 7
    closed = [d for d in body["week_ahead"] if d["closed"]]
    assert [(d["date"], d["reason"]) for d in closed] == [(in_three_days.isoformat(), "Inventory")]
    assert body["exceptional_days"] == [
        {"date": in_three_days.isoformat(), "closed": True, "reason": "Inventory", "periods": []}
    ]
    assert len(body["opening_hours"]) == 7


def test_detail_of_an_unknown_or_inactive_store_is_404_json(client):
    hidden = store("Hidden", is_active=False)

    for slug in ("nope", hidden.slug):
        response = client.get(f"{API}{slug}/")
        assert response.status_code == 404
        assert "error" in response.json()


def test_geojson_feed(client, strasbourg):
    store("Closed down", is_active=False)

    response = client.get("/api/stores.geojson")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "max-age=900" in response["Cache-Control"]
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert "Etalab" in body["license"]["name"]
    assert len(body["features"]) == 3
    centre = next(f for f in body["features"] if f["properties"]["name"] == "Centre")
    assert centre["geometry"] == {"type": "Point", "coordinates": [7.7507, 48.5819]}
    assert centre["properties"]["address"]["city"] == "Strasbourg"
    assert centre["properties"]["opening_hours"][0] == {
        "weekday": 0,
        "day": "monday",
        "opens": "00:00",
        "closes": "23:59",
    }
    assert centre["properties"]["exceptional_days"] == []
