"""bench/README.md "home.py", shop/catalogue/cards.py: the home page's product cards come
from the cache, and a cached card never shows what changed since, another store's stock,
another language, or another shopper's CSRF token."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_model

from shop.catalogue.cards import CSRF_PLACEHOLDER
from stores.selectors import SESSION_STORE_KEY
from tests.factories import product
from tests.stores.factories import stock, store

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
StockRecord = get_model("partner", "StockRecord")


def card(html: str, title: str) -> str:
    """The card of the product called `title` in the page."""
    for found in re.findall(r'<article class="product-card">.*?</article>', html, re.S):
        if f">{title}</a></h3>" in found:
            return found
    raise AssertionError(f"no card for {title}")


def home(client: Client, prefix: str = "") -> str:
    response = client.get(prefix + reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_card_shows_the_stock_left_after_an_order_and_a_new_title(client):
    item = product("Munster", stock=1)
    assert "Add to cart" in card(home(client), "Munster")

    # Oscar allocates the stock of an order's lines at checkout.
    StockRecord.objects.get(product=item).allocate(1)
    after_order = card(home(client), "Munster")

    item.title = "Munster fermier"
    item.save()
    renamed = home(client)

    assert "Add to cart" not in after_order
    assert "is-unavailable" in after_order
    assert "Munster fermier</a></h3>" in renamed


def test_each_shopper_gets_the_card_with_their_own_csrf_token():
    item = product("Riesling", stock=5)
    posted = []
    for _ in range(2):
        client = Client(enforce_csrf_checks=True)
        html = card(home(client), "Riesling")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        response = client.post(
            reverse("basket:add", kwargs={"pk": item.pk}),
            {"quantity": 1, "csrfmiddlewaretoken": token},
        )
        posted.append((response.status_code, CSRF_PLACEHOLDER in html))

    # The second shopper's card came from the cache, with their own token: both adds pass.
    assert posted == [(302, False), (302, False)]
    assert sorted(b.num_items for b in Basket.objects.all()) == [1, 1]


def test_a_card_follows_the_chosen_store_and_the_language(client):
    item = product("Pinot gris", stock=0)
    centre = store("Centre")
    stock(centre, item, 3)
    url = item.get_absolute_url()

    online = card(home(client), "Pinot gris")
    session = client.session
    session[SESSION_STORE_KEY] = centre.pk
    session.save()
    at_centre = card(home(client), "Pinot gris")
    in_french = card(home(client, "/fr"), "Pinot gris")

    assert "is-unavailable" in online
    assert "Add to cart" in at_centre
    assert f'href="/fr{url}"' in in_french
    assert "Ajouter au panier" in in_french
