"""A quantity the shop cannot sell gets one clear message (shop.basket_add, partner strategy)."""

import re

import pytest
from django.urls import reverse

from tests.factories import product

pytestmark = pytest.mark.django_db


def add(client, item, quantity, prefix=""):
    response = client.post(
        prefix + reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": quantity}, follow=True
    )
    return [str(m) for m in response.context["messages"]]


def basket_count(client) -> int:
    return sum(
        line.quantity
        for line in client.get(reverse("basket:summary")).context["basket"].all_lines()
    )


def test_adding_99999_says_how_many_can_be_added_and_nothing_else(client):
    lamp = product("Lamp", stock=5)

    messages = add(client, lamp, "99999")

    assert messages == ["You can add at most 5 of this product."]
    assert basket_count(client) == 0


def test_the_limit_counts_what_is_already_in_the_basket(client):
    lamp = product("Lamp", stock=5)
    add(client, lamp, "3")

    assert add(client, lamp, "99999") == ["You can add at most 2 of this product."]
    assert "have been added to your cart" in add(client, lamp, "2")[0]
    assert add(client, lamp, "1") == [
        "You cannot add more of this product: it is out of stock or already in your basket."
    ]
    assert basket_count(client) == 5


def test_the_basket_wide_limit_is_told_the_same_way(client, settings):
    settings.OSCAR_MAX_BASKET_QUANTITY_THRESHOLD = 10
    lamp = product("Lamp", stock=50)

    assert add(client, lamp, "99999") == ["You can add at most 10 of this product."]


def test_the_message_is_french_on_the_french_site(client):
    lamp = product("Lamp", stock=5)

    messages = add(client, lamp, "99999", prefix="/fr")

    assert messages == ["Vous pouvez ajouter au plus 5 exemplaires de ce produit."]


def test_changing_a_basket_line_to_99999_says_the_most_that_can_be_bought(client):
    lamp = product("Lamp", stock=5)
    add(client, lamp, "1")
    page = client.get(reverse("basket:summary")).content.decode()
    line_id = re.search(r'name="form-0-id" value="(\d+)"', page)[1]

    response = client.post(
        reverse("basket:summary"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": line_id,
            "form-0-quantity": "99999",
        },
    )

    assert response.context["formset"].forms[0].errors == {
        "quantity": ["You can buy at most 5 of this product."]
    }
    assert basket_count(client) == 1
