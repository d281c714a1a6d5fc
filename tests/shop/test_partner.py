"""Partner fork: stock follows the chosen store, allocation cannot oversell (R12), CHECK."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from oscar.core.loading import get_model

from shop.partner.exceptions import InsufficientStock
from stores.selectors import SESSION_STORE_KEY
from tests.factories import product
from tests.stores.factories import stock, store

StockRecord = get_model("partner", "StockRecord")

pytestmark = pytest.mark.django_db


def choose(client, chosen) -> None:
    session = client.session
    session[SESSION_STORE_KEY] = chosen.pk
    session.save()


def test_allocation_beyond_free_stock_raises_and_changes_nothing():
    record = product("Mug", stock=3).stockrecords.get()
    record.allocate(2)

    with pytest.raises(InsufficientStock, match="no longer has 2 of “Mug” in stock"):
        record.allocate(2)

    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (3, 2)
    record.allocate(1)
    assert record.num_allocated == 3


def test_database_refuses_more_allocated_than_in_stock():
    record = product("Mug", stock=3).stockrecords.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        StockRecord.objects.filter(pk=record.pk).update(num_allocated=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockRecord.objects.filter(pk=record.pk).update(num_allocated=-1)


def test_product_page_without_a_store_uses_the_online_record(client):
    mug = product("Mug", stock=5)  # the online partner's record, created first
    centre = store("Centre")
    stock(centre, mug, 2)

    response = client.get(mug.get_absolute_url())

    assert response.status_code == 200
    assert response.context["request"].strategy.fetch_for_product(mug).stockrecord.partner != (
        centre.partner
    )
    html = response.content.decode()
    assert "Choose your store to see its stock" in html
    assert "Centre</a> · 2 in stock" in html


def test_product_page_says_in_stock_at_my_store(client):
    mug = product("Mug", stock=5)
    centre, krutenau = store("Centre"), store("Krutenau", lat=48.58, lng=7.759)
    stock(centre, mug, 4, allocated=1)
    stock(krutenau, mug, 1)
    choose(client, centre)

    response = client.get(mug.get_absolute_url())

    info = response.context["request"].strategy.fetch_for_product(mug)
    assert info.stockrecord.partner == centre.partner
    html = response.content.decode()
    assert "In stock at Centre (3)" in html
    assert "Order for pickup at Centre" in html
    assert "Krutenau</a> · 1 in stock · 0.6 km" in html


def test_my_store_out_of_stock_falls_back_to_the_online_partner(client):
    mug = product("Mug", stock=5)
    online = mug.stockrecords.get()
    centre = store("Centre")
    stock(centre, mug, 1, allocated=1)
    choose(client, centre)

    response = client.get(mug.get_absolute_url())

    assert response.context["request"].strategy.fetch_for_product(mug).stockrecord == online
    assert "Not in stock at Centre" in response.content.decode()


def test_catalogue_with_a_chosen_store_costs_the_same_queries_for_6_or_24(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    centre = store("Centre")
    choose(client, centre)

    def add(start, stop):
        for i in range(start, stop):
            stock(centre, product(f"Cheese {i}", price=f"{i + 1}.00"), i % 3)

    def count() -> int:
        client.get(reverse("catalogue:index"))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("catalogue:index")).status_code == 200
        return len(ctx.captured_queries)

    add(0, 6)
    with_6 = count()
    add(6, 24)

    assert count() == with_6
