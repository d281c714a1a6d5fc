"""Database-backed browsing and search (shop.search), replacing Oscar's Haystack views."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from tests.factories import category, product

UserSearch = get_model("analytics", "UserSearch")

pytestmark = pytest.mark.django_db


def listed(response) -> list[str]:
    return [p.title for p in response.context["products"]]


def test_category_page_lists_its_products_and_its_subcategories_products(client):
    food = category("Food")
    cheese = category("Cheese", parent=food)
    product("Munster", categories=[cheese])
    product("Bretzel", categories=[food])
    product("Tea towel")
    product("Hidden cheese", categories=[cheese], is_public=False)

    response = client.get(food.get_absolute_url())

    assert response.status_code == 200
    assert listed(response) == ["Bretzel", "Munster"]
    assert response.context["category"] == food


def test_catalogue_lists_every_public_product_sorted_as_asked(client):
    product("Cheap", price="1.00")
    product("Dear", price="30.00")
    product("Middle", price="7.50")

    by_default = client.get(reverse("catalogue:index"))
    by_price = client.get(reverse("catalogue:index"), {"sort_by": "price-desc"})
    by_bad_sort = client.get(reverse("catalogue:index"), {"sort_by": "nonsense"})

    assert listed(by_default) == ["Cheap", "Dear", "Middle"]
    assert listed(by_price) == ["Dear", "Middle", "Cheap"]
    assert listed(by_bad_sort) == ["Cheap", "Dear", "Middle"]


def test_search_matches_every_word_in_title_or_description(client):
    product("Alsace Riesling 2022", description="A dry white wine from Alsace.")
    product("Crémant d'Alsace", description="Sparkling wine, traditional method.")
    product("Kougelhopf mould", description="Glazed clay mould for the Alsace cake.")

    response = client.get(reverse("search:search"), {"q": "alsace wine"})

    assert response.status_code == 200
    assert sorted(p.title for p in response.context["results"]) == [
        "Alsace Riesling 2022",
        "Crémant d'Alsace",
    ]
    assert response.context["query"] == "alsace wine"


@pytest.mark.postgres
def test_postgres_search_stems_and_ranks_title_matches_first(client):
    product("Stoneware mug", description="Holds a large coffee.")
    product("Coffee grinder", description="Burr grinder for mugs of fresh coffee.")
    product("Tea towel", description="Linen.")

    response = client.get(reverse("search:search"), {"q": "mugs"})

    # "mugs" finds "mug" (English stemming); the title match ranks first.
    assert [p.title for p in response.context["results"]] == ["Stoneware mug", "Coffee grinder"]


def test_search_finds_a_word_being_typed(client):
    product("Yirgacheffe coffee beans")

    response = client.get(reverse("search:search"), {"q": "yirga"})

    assert [p.title for p in response.context["results"]] == ["Yirgacheffe coffee beans"]


def test_search_with_no_match_says_so(client):
    product("Munster")

    response = client.get(reverse("search:search"), {"q": "zzzz"})

    assert response.status_code == 200
    assert list(response.context["results"]) == []


def test_invalid_page_number_redirects_to_the_first_page(client):
    product("Munster")

    response = client.get(reverse("catalogue:index"), {"page": "99", "sort_by": "title-asc"})

    assert response.status_code == 302
    assert response["Location"] == reverse("catalogue:index") + "?sort_by=title-asc"


def _queries_for(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["catalogue", "category", "search"])
def test_listing_pages_cost_the_same_queries_for_6_or_24_products(client, page):
    # Given two catalogues, one with 6 products, then one with 24 on the page
    cheese = category("Cheese")
    for i in range(6):
        product(f"Cheese {i}", categories=[cheese], price=f"{i + 1}.00")
    url, params = {
        "catalogue": (reverse("catalogue:index"), {}),
        "category": (cheese.get_absolute_url(), {}),
        "search": (reverse("search:search"), {"q": "cheese"}),
    }[page]
    client.get(url, params)  # warm per-process caches (content types, site)
    with_6 = _queries_for(client, url, **params)

    for i in range(6, 24):
        product(f"Cheese {i}", categories=[cheese], price=f"{i + 1}.00")
    with_24 = _queries_for(client, url, **params)

    # Then the page costs the same small number of queries: no query per product
    assert with_24 == with_6
    assert with_24 <= 14


def test_an_over_long_search_is_shortened_at_a_word_and_says_so(client):
    product("Alsace Riesling 2022", description="A dry white wine from Alsace.")
    product("Tea towel")
    # Words of 5 characters and a space: the 34th word would end at character 202.
    query = "wine " + " ".join(["alsac"] * 36) + " " + "x" * 300

    response = client.get(reverse("search:search"), {"q": query})

    assert response.status_code == 200
    assert response.context["query_shortened"] is True
    shortened = response.context["query"]
    assert len(shortened) == 196
    assert shortened == "wine " + " ".join(["alsac"] * 32)
    # Searched, not ignored: the tea towel is not listed as if nothing had been typed.
    assert [p.title for p in response.context["results"]] == ["Alsace Riesling 2022"]
    assert "Your search was too long: only its first 200 characters were used." in (
        response.content.decode()
    )


def test_a_single_over_long_word_is_cut_at_the_limit(client):
    response = client.get(reverse("search:search"), {"q": "a" * 500})

    assert response.context["query"] == "a" * 200
    assert response.context["query_shortened"] is True


def test_a_search_within_the_limit_is_not_flagged(client):
    response = client.get(reverse("search:search"), {"q": "riesling"})

    assert response.context["query_shortened"] is False


@pytest.mark.postgres  # SQLite does not enforce the 255 characters of Oscar's search log
def test_a_500_character_search_is_logged_as_searched_not_as_typed(client):
    product("Munster")
    user = UserFactory()
    client.force_login(user)

    response = client.get(reverse("search:search"), {"q": "munster " * 62})

    assert response.status_code == 200
    assert listed_results(response) == ["Munster"]
    logged = UserSearch.objects.get(user=user).query
    assert len(logged) <= 200 and logged.startswith("munster munster")


def listed_results(response) -> list[str]:
    return [p.title for p in response.context["results"]]
