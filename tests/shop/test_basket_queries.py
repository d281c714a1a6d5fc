"""Adding to the basket and its page cost a fixed number of queries, whatever the number of
lines (bench/README.md, "The basket in a fixed number of queries"), and the offers read once
per request are read again on the next one."""

from decimal import Decimal

import pytest
from django.urls import reverse
from oscar.core.loading import get_model
from oscar.test.factories import create_product

from stores.selectors import SESSION_STORE_KEY
from tests.factories import product
from tests.loyalty.factories import member_factory
from tests.shop.catalogue_fixtures import basket_addition_writes
from tests.stores.factories import stock, store

ConditionalOffer = get_model("offer", "ConditionalOffer")
Range = get_model("offer", "Range")
Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")
Option = get_model("catalogue", "Option")

pytestmark = pytest.mark.django_db

# (add, page), the same with 1 and 5 lines (bench/README.md, "The basket in a fixed number
# of queries"). The add: the product, its stock records, the basket (with whether it has
# vouchers), its lines (with whether they have attributes: none here) and the other lines'
# products' stock records (none when the product added is the only line's: ONLY_LINE), the
# UPDATE of the line's quantity (the lines are not read again, nor their images: the add
# shows none); no analytics write (counted in Redis) and no offer query (the offers come
# from the cache). The page: the basket, its lines, their stock records and
# images. A member's requests also read the session, the user and the member (their tier and
# segments choose their cached offers; their basket is read with whether it has lines and
# vouchers, the chosen store comes from the cache), and the page their saved basket,
# address and notifications (the menu's dashboard link is cached per user:
# shop/security/dashboard_link.py).
QUERIES = {"guest": (6, 4), "member": (9, 10)}
ONLY_LINE = 1
# A guest's first addition creates the basket: the product, its stock records, the INSERT
# of the basket and of the line (no lines nor vouchers to read in a basket made now).
FIRST_ADD = 4


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
    add -= ONLY_LINE if lines == 1 else 0
    add += basket_addition_writes(signed_in=signed_in)

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


def test_the_first_addition_reads_nothing_of_the_basket_it_creates(
    client, django_assert_num_queries
):
    mug = product("Mug", price="8.00", stock=10)
    client.get(reverse("basket:summary"))  # caches filled (menu)

    with django_assert_num_queries(
        FIRST_ADD + basket_addition_writes(signed_in=False, records_new=True)
    ):
        added = client.post(reverse("basket:add", kwargs={"pk": mug.pk}), {"quantity": 2})

    assert added.status_code == 302
    basket = client.get(reverse("basket:summary")).context["basket"]
    assert [(line.product_id, line.quantity) for line in basket.all_lines()] == [(mug.pk, 2)]
    assert basket.total_incl_tax == Decimal("16.00")


def test_a_variant_and_a_product_with_an_option_are_added_and_shown(client):
    # Given a T-shirt with a size variant, and a mug that takes an engraving
    shirt = create_product(title="T-shirt", structure="parent")
    small = create_product(title="T-shirt S", parent=shirt, price=Decimal("12.00"), num_in_stock=5)
    mug = product("Mug", price="8.00", stock=10)
    engraving = Option.objects.create(name="Engraving", code="engraving", type=Option.TEXT)
    mug.product_options.add(engraving)

    # When both are added to a basket holding the mug already, and shown
    for data in ({"quantity": 1, "engraving": "Léa"},) * 2:
        client.post(reverse("basket:add", kwargs={"pk": mug.pk}), data)
    client.post(
        reverse("basket:add", kwargs={"pk": shirt.pk}), {"quantity": 1, "child_id": small.pk}
    )
    shown = client.get(reverse("basket:summary"))

    # Then each line is there, with its option, quantity and price
    basket = shown.context["basket"]
    lines = [
        (line.product_id, line.quantity, [a.value for a in line.attributes.all()])
        for line in basket.all_lines()
    ]
    assert lines == [(mug.pk, 2, ["Léa"]), (small.pk, 1, [])]
    assert basket.total_incl_tax == Decimal("28.00")
    html = shown.content.decode()
    assert "Léa" in html and "T-shirt S" in html
