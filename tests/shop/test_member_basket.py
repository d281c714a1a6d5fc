"""shop/basket_load.py `member_basket`: a member's open basket is read with whether it has
lines; the header's count stays right as lines come and go, and the cases Oscar handles
itself (no basket yet, several open baskets, a cookie basket to merge) still are."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from oscar.core.loading import get_class, get_model

from tests.factories import product
from tests.loyalty.factories import member_factory

pytestmark = pytest.mark.django_db

Basket = get_model("basket", "Basket")
Selector = get_class("partner.strategy", "Selector")


def header_count(client: Client) -> int:
    html = client.get(reverse("home")).content.decode()
    return int(re.search(r'header-action--basket".*?count-badge[^"]*">(\d+)<', html, re.S)[1])


def add(client: Client, item, quantity: int = 1) -> None:
    response = client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": quantity})
    assert response.status_code == 302


def test_the_count_follows_lines_added_and_removed(client):
    user = member_factory(email="lea@example.com").user
    client.force_login(user)
    munster, riesling = product("Munster", stock=20), product("Riesling", stock=20)
    assert header_count(client) == 0  # the basket is made on the first page
    assert Basket.open.filter(owner=user).count() == 1

    add(client, munster, 2)
    assert header_count(client) == 2
    add(client, riesling)
    assert header_count(client) == 3
    basket = Basket.open.get(owner=user)
    basket.lines.filter(product=munster).delete()
    assert header_count(client) == 1
    basket.flush()
    assert header_count(client) == 0


def test_several_open_baskets_are_merged_as_oscar_does(client):
    user = member_factory(email="lea@example.com").user
    strategy = Selector().strategy()
    for quantity, title in ((1, "Munster"), (2, "Riesling")):
        basket = Basket.objects.create(owner=user)
        basket.strategy = strategy
        basket.add_product(product(title, stock=20), quantity)
    client.force_login(user)

    assert header_count(client) == 3
    assert Basket.open.filter(owner=user).count() == 1


def test_a_cookie_basket_is_merged_at_sign_in(client):
    user = member_factory(email="lea@example.com").user
    client.force_login(user)
    add(client, product("Munster", stock=20))
    visitor = Client()
    add(visitor, product("Riesling", stock=20), 2)
    visitor.force_login(user)  # the visitor's basket cookie stays

    assert header_count(visitor) == 3
    assert header_count(client) == 3
