"""Every shopper destination is one tap away on a phone: the tab bar's Categories shows
categories, Stores sits in the tab bar and on the home page, and the loyalty page is in the
account menu (the header's loyalty link is hidden on phones)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import category

pytestmark = pytest.mark.django_db


def tabbar_links(html: str) -> list[str]:
    bar = re.search(r'<nav class="tabbar".*?</nav>', html, re.S).group(0)
    return re.findall(r'<a [^>]*href="([^"]+)"', bar)


def test_the_tab_bar_leads_to_home_categories_stores_basket_and_account(client):
    response = client.get(reverse("home"))

    assert tabbar_links(response.content.decode()) == [
        "/",
        "/categories/",
        "/stores/",
        "/basket/",
        "/accounts/login/",
    ]


def test_the_home_page_has_a_store_finder_button(client):
    html = client.get(reverse("home")).content.decode()

    assert re.search(r'<a class="[^"]*hero__cta[^"]*" href="/stores/">', html)
    assert "Find a store near you" in html


def test_categories_page_lists_top_level_categories_with_their_subcategories(client):
    food = category("Groceries")
    category("Cheese", parent=food)
    category("Bakery", parent=food)
    category("Home and garden")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("categories"))

    assert response.status_code == 200
    html = response.content.decode()
    names = re.findall(r'class="category-tile__name">([^<]+)<', html)
    chips = re.findall(r'<a class="chip" href="([^"]+)">([^<]+)</a>', html)
    assert names == ["Groceries", "Home and garden"]
    # In the order catalogue managers arranged them (the tree order).
    assert [name for _url, name in chips] == ["Cheese", "Bakery"]
    assert all(url.startswith("/catalogue/category/groceries/") for url, _name in chips)
    # The tree is one query whatever its size (plus the session-less basket and offers).
    assert len(queries) <= 6


def test_categories_page_in_french(client):
    category("Groceries")

    response = client.get("/fr/categories/")

    assert response.status_code == 200
    assert 'lang="fr"' in response.content.decode()


def test_account_menu_links_to_the_loyalty_page(client):
    user = get_user_model().objects.create_user(
        username="camille", email="camille@example.com", password="a-long-password-1"
    )
    client.force_login(user)

    html = client.get(reverse("customer:summary"), follow=True).content.decode()

    assert f'href="{reverse("loyalty:member")}"' in html
    assert "Loyalty points and card" in html
