"""README "Open data for local search": each store's local inventory feed (CSV and JSON),
made by a beat task, served with ETag and Last-Modified; the GeoJSON links to it."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.http import http_date
from oscar.core.loading import get_model

from config.celery_app import app
from stores import tasks
from stores.feeds import inventory_feeds_refresh
from tests.factories import product
from tests.stores.factories import stock, store

pytestmark = pytest.mark.django_db

StockRecord = get_model("partner", "StockRecord")

T1 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 12, 4, 9, 15, tzinfo=dt.UTC)
SITE = "https://boutique.example.fr"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def shops():
    """Centre (click & collect) and Gare (no pickup) selling Munster and a Bretzel; what
    must never be in a feed: a hidden product, a record with no price, a closed store,
    partner SKUs (stock records have no cost price in this shop)."""
    centre = store("Centre")
    gare = store("Gare", pickup_enabled=False)
    closed = store("Fermé", is_active=False)
    munster = product("Munster", upc="4006381333931", price="5.00", stock=50)
    bretzel = product("Bretzel", upc="B-17", price="1.00", stock=50)
    hidden = product("Prototype", is_public=False)
    records = {
        "centre-munster": stock(centre, munster, 5, price="4.50", allocated=2),
        "centre-bretzel": stock(centre, bretzel, 0, price="1.20"),
        "gare-munster": stock(gare, munster, 7, price="4.80"),
    }
    stock(centre, hidden, 9)
    stock(gare, bretzel, 4, price=None)
    stock(closed, munster, 3)
    for s in (centre, gare, closed):
        cache.delete(f"stores:inventory-feed:{s.slug}")
    return {
        "centre": centre,
        "gare": gare,
        "closed": closed,
        "munster": munster,
        "bretzel": bretzel,
        "records": records,
    }


def _url(name: str, s) -> str:
    return reverse(f"stores-api:inventory-{name}", kwargs={"slug": s.slug})


def test_urls_are_outside_the_language_prefix(shops):
    centre = shops["centre"]
    assert _url("csv", centre) == f"/api/stores/{centre.slug}/inventory.csv"
    assert _url("json", centre) == f"/api/stores/{centre.slug}/inventory.json"
    assert reverse("stores-api:inventory-index") == "/api/stores/inventory.json"


def test_the_feeds_of_two_stores_exactly(client, shops, django_assert_num_queries):
    munster, bretzel = shops["munster"].pk, shops["bretzel"].pk
    centre, gare = shops["centre"], shops["gare"]

    # The active stores; every stock record at once; the products they are for.
    with django_assert_num_queries(3):
        done = inventory_feeds_refresh(now=T1)

    assert done == {"stores": 2, "changed": 2}
    response = client.get(_url("csv", centre))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Last-Modified"] == "Fri, 04 Dec 2026 09:00:00 GMT"
    assert response["ETag"].startswith('"') and len(response["ETag"]) == 34
    assert "public" in response["Cache-Control"] and "max-age=900" in response["Cache-Control"]
    assert response.content.decode() == (
        "product_id,gtin,title,url,price,currency,quantity,pickup,updated_at\r\n"
        f"{munster},4006381333931,Munster,{SITE}/catalogue/munster_{munster}/,4.50,EUR,3,"
        "true,2026-12-04T09:00:00Z\r\n"
        f"{bretzel},,Bretzel,{SITE}/catalogue/bretzel_{bretzel}/,1.20,EUR,0,false,"
        "2026-12-04T09:00:00Z\r\n"
    )
    assert client.get(_url("csv", gare)).content.decode() == (
        "product_id,gtin,title,url,price,currency,quantity,pickup,updated_at\r\n"
        f"{munster},4006381333931,Munster,{SITE}/catalogue/munster_{munster}/,4.80,EUR,7,"
        "false,2026-12-04T09:00:00Z\r\n"
    )

    response = client.get(_url("json", gare))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "store": {"slug": gare.slug, "name": "Gare", "url": f"{SITE}/stores/{gare.slug}/"},
        "license": {
            "name": "Licence Ouverte / Open Licence 2.0 (Etalab)",
            "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
            "attribution": "Solomo",
        },
        "updated_at": "2026-12-04T09:00:00Z",
        "columns": [
            "product_id",
            "gtin",
            "title",
            "url",
            "price",
            "currency",
            "quantity",
            "pickup",
            "updated_at",
        ],
        "items": [
            {
                "product_id": munster,
                "gtin": "4006381333931",
                "title": "Munster",
                "url": f"{SITE}/catalogue/munster_{munster}/",
                "price": "4.80",
                "currency": "EUR",
                "quantity": 7,
                "pickup": False,
                "updated_at": "2026-12-04T09:00:00Z",
            }
        ],
    }
    centre_json = client.get(_url("json", centre)).json()
    assert [(i["product_id"], i["quantity"], i["pickup"]) for i in centre_json["items"]] == [
        (munster, 3, True),
        (bretzel, 0, False),
    ]
    skus = [r.partner_sku.encode() for r in shops["records"].values()]
    for body in (client.get(_url(f, s)).content for f in ("csv", "json") for s in (centre, gare)):
        assert [sku for sku in skus if sku in body] == []


def test_a_run_picks_up_a_stock_change_and_keeps_the_rest(client, shops):
    centre, gare = shops["centre"], shops["gare"]
    inventory_feeds_refresh(now=T1)
    first = client.get(_url("csv", centre))
    gare_etag = client.get(_url("json", gare))["ETag"]
    assert client.get(_url("csv", centre), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    # A sale takes the last free Munster at Centre; nothing changes at Gare.
    StockRecord.objects.filter(pk=shops["records"]["centre-munster"].pk).update(num_allocated=5)
    done = inventory_feeds_refresh(now=T2)

    assert done == {"stores": 2, "changed": 1}
    second = client.get(_url("csv", centre), HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second["Last-Modified"] == http_date(T2.timestamp())
    lines = second.content.decode().splitlines()
    munster, bretzel = shops["munster"].pk, shops["bretzel"].pk
    assert lines[1].startswith(f"{munster},4006381333931,Munster,")
    assert lines[1].endswith(",4.50,EUR,0,false,2026-12-04T09:15:00Z")
    # The Bretzel row did not change: it keeps the time it was first seen.
    assert lines[2].startswith(f"{bretzel},,Bretzel,")
    assert lines[2].endswith(",1.20,EUR,0,false,2026-12-04T09:00:00Z")
    unchanged = client.get(_url("json", gare), HTTP_IF_NONE_MATCH=gare_etag)
    assert unchanged.status_code == 304
    since = client.get(_url("json", gare), HTTP_IF_MODIFIED_SINCE=http_date(T1.timestamp()))
    assert since.status_code == 304


def test_a_feed_missing_from_the_cache_is_made_on_request(client, shops):
    response = client.get(_url("json", shops["gare"]))

    assert response.status_code == 200
    assert [i["price"] for i in response.json()["items"]] == ["4.80"]
    assert client.get(_url("json", shops["gare"]))["ETag"] == response["ETag"]


def test_unknown_or_closed_stores_have_no_feed(client, shops):
    for slug in ("nowhere", shops["closed"].slug):
        for fmt in ("csv", "json"):
            response = client.get(f"/api/stores/{slug}/inventory.{fmt}")
            assert response.status_code == 404
            assert response.json() == {"error": f"no active store {slug!r}"}


def test_the_index_and_the_geojson_link_to_each_feed(client, shops):
    centre, gare = shops["centre"], shops["gare"]
    inventory_feeds_refresh(now=T1)

    index = client.get("/api/stores/inventory.json")
    geojson = client.get("/api/stores.geojson").json()

    assert index.status_code == 200
    links = {
        s.slug: {
            "csv": f"http://testserver/api/stores/{s.slug}/inventory.csv",
            "json": f"http://testserver/api/stores/{s.slug}/inventory.json",
        }
        for s in (centre, gare)
    }
    assert index.json()["stores"] == [
        {"slug": s.slug, "name": s.name, "updated_at": "2026-12-04T09:00:00Z", **links[s.slug]}
        for s in sorted((centre, gare), key=lambda s: s.slug)
    ]
    assert {f["id"]: f["properties"]["inventory"] for f in geojson["features"]} == links
    for s in (centre, gare):
        assert client.get(links[s.slug]["csv"]).status_code == 200


def test_beat_makes_the_feeds_every_15_minutes():
    assert settings.CELERY_BEAT_SCHEDULE["stores-inventory-feeds"] == {
        "task": "stores.tasks.inventory_feeds_refresh",
        "schedule": 900.0,
        "options": {"expires": 840},
    }
    app.loader.import_default_modules()
    assert "stores.tasks.inventory_feeds_refresh" in app.tasks


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_the_feeds(client, celery_worker_process):
    centre = store("Centre")
    stock(centre, product("Kougelhopf"), 6, price="12.00")
    cache.delete(f"stores:inventory-feed:{centre.slug}")

    assert tasks.inventory_feeds_refresh_task.delay().get(timeout=30) == {
        "stores": 1,
        "changed": 1,
    }

    body = json.loads(cache.get(f"stores:inventory-feed:{centre.slug}")["json"])
    assert [(i["title"], i["price"], i["quantity"]) for i in body["items"]] == [
        ("Kougelhopf", "12.00", 6)
    ]
    assert client.get(_url("json", centre)).json() == body
