"""Adding to the basket and its page cost a fixed number of queries, whatever the number of
lines (bench/README.md, "The basket in a fixed number of queries"), and the offers read once
per request are read again on the next one."""

from decimal import Decimal

import pytest
from django.urls import reverse
from oscar.core.loading import get_model

from stores.selectors import SESSION_STORE_KEY
from tests.factories import product
from tests.loyalty.factories import member_factory
from tests.stores.factories import stock, store

ConditionalOffer = get_model("offer", "ConditionalOffer")
Range = get_model("offer", "Range")
Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")

pytestmark = pytest.mark.django_db

# (add, page), the same with 1 and 5 lines (before shop/basket_load.py, each line added
# two stock record queries to the page and one to the add, and the offers were read three
# times per request): the add reads the product with its stock records, the basket with its
# lines (lines, attributes, images, stock records) and offers, writes the line, reads the
# lines again and writes the analytics counters; the page reads the basket, its lines and
# its offers once (the menu's categories and the shelves' order come from the cache). A
# member's requests also read the session, the user, their tier and
# segments, and the page their saved basket, address and notifications (its menu's
# dashboard link is cached per user: shop/security/dashboard_link.py).
QUERIES = {"guest": (16, 7), "member": (21, 14)}


def shopper(client, signed_in: bool):
    shop = store(name="Centre")
    if signed_in:
        member = member_factory(email="lea@example.com")
        client.force_login(member.user)
        session = client.session
        session[SESSION_STORE_KEY] = shop.pk
        session.save()
    return shop


@pytest.mark.parametrize("lines", [1, 5])
@pytest.mark.parametrize("signed_in", [False, True], ids=["guest", "member"])
def test_adding_and_the_basket_page_cost_the_same_queries_whatever_the_lines(
    client, signed_in, lines, django_assert_num_queries
):
    shop = shopper(client, signed_in)
    items = [product(f"Item {n}", price="5.00", stock=50) for n in range(lines)]
    for item in items:
        stock(shop, item, 20, price="5.00")
        client.post(reverse("basket:add", kwargs={"pk": item.pk}), {"quantity": 1})
    client.get(reverse("basket:summary"))  # caches filled (cards, menu, recommendations)
    add, page = QUERIES["member" if signed_in else "guest"]

    with django_assert_num_queries(add):
        added = client.post(reverse("basket:add", kwargs={"pk": items[0].pk}), {"quantity": 1})
    with django_assert_num_queries(page):
        shown = client.get(reverse("basket:summary"))

    assert added.status_code == 302
    assert shown.status_code == 200
    basket = shown.context["basket"]
    assert [line.quantity for line in basket.all_lines()] == [2] + [1] * (lines - 1)
    assert basket.total_incl_tax == Decimal("5.00") * (lines + 1)
    html = shown.content.decode()
    assert all(item.get_title() in html for item in items)


def test_an_offer_created_between_two_requests_applies_on_the_next_one(client):
    mug = product("Mug", price="8.00", stock=10)
    client.post(reverse("basket:add", kwargs={"pk": mug.pk}), {"quantity": 1})
    assert client.get(reverse("basket:summary")).context["basket"].total_incl_tax == Decimal("8.00")

    everything = Range.objects.create(name="Everything", includes_all_products=True)
    ConditionalOffer.objects.create(
        name="One euro off",
        offer_type=ConditionalOffer.SITE,
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.FIXED, value=1),
    )

    page = client.get(reverse("basket:summary"))
    assert page.context["basket"].total_incl_tax == Decimal("7.00")
    assert "One euro off" in page.content.decode()
    client.post(reverse("basket:add", kwargs={"pk": mug.pk}), {"quantity": 1})
    assert client.get(reverse("basket:summary")).context["basket"].total_incl_tax == Decimal(
        "15.00"
    )
