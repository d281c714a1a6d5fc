"""Database-backed browsing and search (shop.search), replacing Oscar's Haystack views."""

import pytest
from django.urls import reverse
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

from shop.catalogue.cards import card_versions_bump
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


LISTINGS = {
    "catalogue": lambda cheese: (reverse("catalogue:index"), {}),
    "category": lambda cheese: (cheese.get_absolute_url(), {}),
    "category, page 2": lambda cheese: (cheese.get_absolute_url(), {"page": 2}),
    "search": lambda cheese: (reverse("search:search"), {"q": "cheese"}),
    "search, page 2": lambda cheese: (reverse("search:search"), {"q": "cheese", "page": 2}),
}


LISTING_QUERIES = {"catalogue": 2, "category": 3, "search": 2}


def _cheeses(cheese, start: int, stop: int) -> None:
    for i in range(start, stop):
        product(f"Cheese {i:02d}", categories=[cheese], price=f"{i + 1}.00")


@pytest.mark.parametrize("cards", ["cached", "rendered"])
@pytest.mark.parametrize("page", ["catalogue", "category", "search"])
def test_listing_pages_cost_the_same_queries_for_5_or_50_products(
    client, page, cards, django_assert_num_queries
):
    # Given a catalogue of 5 products, then one of 50 (a full page of 24 and more)
    cheese = category("Cheese")
    _cheeses(cheese, 0, 5)
    url, params = LISTINGS[page](cheese)
    client.get(url, params)  # warm per-process caches (content types, site) and the cards

    # Session-less guest: the category (category pages), the COUNT, the page's products;
    # the menu's categories and the product cards from the cache, or (all retired, as a
    # change of a store does) the menu's categories (2) and the products with what a card
    # reads: 6 queries whatever their number.
    expected = LISTING_QUERIES[page] + (8 if cards == "rendered" else 0)

    def measured():
        if cards == "rendered":
            card_versions_bump(everything=True)
        with django_assert_num_queries(expected):
            return client.get(url, params)

    small = measured()
    _cheeses(cheese, 5, 50)
    client.get(url, params)
    large = measured()

    # Then the page costs the same small number of queries: none per product
    assert (small.context["paginator"].count, large.context["paginator"].count) == (5, 50)
    assert large.content.decode().count('class="product-card"') == 24


@pytest.mark.parametrize("page", ["category", "search"])
def test_a_deep_page_costs_the_queries_of_the_first(client, page, django_assert_num_queries):
    cheese = category("Cheese")
    _cheeses(cheese, 0, 50)
    first_url, first_params = LISTINGS[page](cheese)
    url, params = LISTINGS[f"{page}, page 2"](cheese)
    client.get(first_url, first_params)
    client.get(url, params)

    with django_assert_num_queries(LISTING_QUERIES[page]):
        first = client.get(first_url, first_params)
    with django_assert_num_queries(LISTING_QUERIES[page]):
        second = client.get(url, params)

    assert second.content.decode().count('class="product-card"') == 24
    assert set(first.context["object_list"]).isdisjoint(second.context["object_list"])


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
