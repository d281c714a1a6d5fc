"""A dead Redis cache degrades to cache misses; pages still render, quickly (R25)."""

import socket
import time

import pytest
from django.core.cache import caches
from oscar.test.factories import ProductImageFactory

from config.settings.base import redis_cache
from tests.factories import category, product

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_pages_render_while_the_redis_cache_is_unreachable(client, settings):
    # Given the shop's Redis cache settings, pointing at a port where nothing listens
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{closed_port()}/0")}
    cheese = category("Cheese")
    munster = product("Munster", categories=[cheese])
    ProductImageFactory(product=munster)

    # When a shopper opens the listing (thumbnails are looked up through the cache)
    started = time.monotonic()
    listing = client.get(cheese.get_absolute_url())
    detail = client.get(munster.get_absolute_url())
    elapsed = time.monotonic() - started

    # Then both pages render, the cache behaves as empty, and nothing waited on Redis
    assert listing.status_code == 200
    assert [p.title for p in listing.context["products"]] == ["Munster"]
    assert detail.status_code == 200
    caches["default"].set("anything", 1)  # does not raise
    assert caches["default"].get("anything") is None
    assert elapsed < 3
