"""Products and stores through the API (shop/api/catalogue.py): the site's selectors."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from stores.models import StorePreference
from tests.factories import product
from tests.shop.api.factories import bearer_client, customer
from tests.stores.factories import stock, store

pytestmark = pytest.mark.django_db


def test_products_are_searched_as_on_the_site_with_units_free_at_the_chosen_store():
    near = store("Centre")
    coffee = product("Coffee beans", price="7.50", stock=0)
    product("Green tea", price="3.00")
    stock(near, coffee, 8, price="7.20", allocated=3)

    got = APIClient().get(reverse("api:products"), {"q": "coffee", "store": near.slug})

    assert got.status_code == 200
    body = got.json()
    assert body["count"] == 1
    (item,) = body["results"]
    assert (item["id"], item["title"], item["num_available_at_store"]) == (
        coffee.pk,
        "Coffee beans",
        5,
    )
    assert item["min_price"] == "7.20"


def test_a_product_lists_its_price_and_free_units_at_every_store_that_sells_it():
    a, b = store("Alpha"), store("Beta")
    item = product("Mug", stock=0)
    stock(a, item, 4, price="5.00", allocated=1)
    stock(b, item, 2, price="5.50", allocated=2)

    got = APIClient().get(reverse("api:product", kwargs={"pk": item.pk}))

    assert got.status_code == 200
    assert [
        (row["store_name"], row["price"], row["num_available"])
        for row in got.json()["availability"]
    ] == [("Alpha", "5.00", 3), ("Beta", "5.50", 0)]


def test_an_unknown_store_or_sort_is_a_400_naming_the_field():
    got = APIClient().get(reverse("api:products"), {"store": "nowhere", "sort_by": "upside-down"})

    assert got.status_code == 400
    body = got.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["sort_by"]


def test_a_product_that_is_not_public_is_a_404_in_the_error_shape():
    hidden = product("Secret", is_public=False)

    got = APIClient().get(reverse("api:product", kwargs={"pk": hidden.pk}))

    assert got.status_code == 404
    assert got.json() == {
        "code": "not_found",
        "message": "No Product matches the given query.",
        "fields": {},
    }


def test_stores_near_delegate_to_the_stores_selector_with_stock_of_a_product():
    here = store("Here", lat=48.58, lng=7.75)
    far = store("Far", lat=48.80, lng=7.75)
    empty = store("Empty", lat=48.581, lng=7.75)
    item = product("Lamp", stock=0)
    stock(here, item, 2)
    stock(far, item, 9)
    stock(empty, item, 0)

    got = APIClient().get(
        reverse("api:stores-near"), {"lat": "48.58", "lng": "7.75", "product": item.pk}
    )

    assert got.status_code == 200
    rows = got.json()["stores"]
    assert [(row["name"], row["num_available"]) for row in rows] == [("Here", 2), ("Far", 9)]
    assert rows[0]["distance_km"] == 0.0


def test_stores_near_without_a_place_is_a_400_with_the_reason():
    got = APIClient().get(reverse("api:stores-near"), {"lat": "48.5"})

    assert got.status_code == 400
    assert got.json() == {
        "code": "invalid",
        "message": "lat and lng must be given together",
        "fields": {},
    }


def test_errors_are_in_the_language_of_accept_language():
    got = APIClient().get(reverse("api:me"), HTTP_ACCEPT_LANGUAGE="fr")

    assert got.status_code == 401
    assert got.json()["code"] == "not_authenticated"
    assert got.json()["message"] == "Informations d'authentification non fournies."


def test_a_signed_in_user_makes_a_store_theirs_and_its_stock_then_prices_their_basket():
    user = customer()
    mine = store("Mine")
    tea = product("Tea", price="4.00", stock=0)
    stock(mine, tea, 3, price="3.50")
    client = bearer_client(user)

    chosen = client.post(reverse("api:store-choose", kwargs={"slug": mine.slug}))
    added = client.post(reverse("api:basket"), {"product": tea.pk, "quantity": 2}, format="json")

    assert chosen.json() == {"store": mine.slug}
    assert StorePreference.objects.get(user=user).store == mine
    assert (added.status_code, added.json()["total_incl_tax"]) == (201, "7.00")


def test_an_address_that_names_no_endpoint_is_a_404_in_the_error_shape():
    got = APIClient().get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="fr")

    assert got.status_code == 404
    assert got.json() == {
        "code": "not_found",
        "message": "Il n'y a pas d'adresse de ce nom dans l'API.",
        "fields": {},
    }


def test_the_stores_api_under_api_stores_is_unchanged():
    here = store("Here", lat=48.58, lng=7.75)

    got = APIClient().get(reverse("stores-api:list"), {"lat": "48.58", "lng": "7.75"})

    assert got.status_code == 200
    assert [row["slug"] for row in got.json()["stores"]] == [here.slug]
    assert got.json()["count"] == 1
